// Inside the app's page when a notebook's view frames it: how tall the app is, posted to the view, which sizes its
// frame to fit (wave_jupyter/jupyter/view.js). Measured as the lowest bottom edge of the cards the UI rendered (not the
// document's height, nor a layout zone's: they follow the frame's own height and would only ever grow).
(() => {
  if (window.parent === window) return;
  let last = -1;
  let queued = false;
  const measure = () => {
    queued = false;
    let bottom = 0;
    // The cards (the UI wraps each in .wave-animate-card); else named elements, but not a layout zone as tall as the
    // frame itself (its height follows the frame's, not the app's).
    let cards = [...document.querySelectorAll('.wave-animate-card')];
    if (!cards.length) {
      cards = [...document.querySelectorAll('body [data-test]')].filter(
        (el) => el.getBoundingClientRect().height < window.innerHeight - 40);
    }
    for (const el of cards) {
      const box = el.getBoundingClientRect();
      if (box.height > 0) bottom = Math.max(bottom, box.bottom + window.scrollY);
    }
    const height = Math.ceil(bottom);
    if (height > 0 && Math.abs(height - last) > 2) {
      last = height;
      window.parent.postMessage({ t: 'wave-jupyter-height', h: height }, '*');
    }
  };
  const later = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(measure);
    }
  };
  const start = () => {
    new MutationObserver(later).observe(document.body, { childList: true, subtree: true, attributes: true });
    new ResizeObserver(later).observe(document.body);
    later();
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
