// Inside the app's page when a notebook's view frames it: how tall the app is, posted to the view, which sizes its
// frame to fit (wave_jupyter/jupyter/view.js). Measured as the lowest bottom edge of what the UI rendered (not the
// document's height, which follows the frame's own height and would only ever grow).
(() => {
  if (window.parent === window) return;
  let last = -1;
  let queued = false;
  const measure = () => {
    queued = false;
    let bottom = 0;
    for (const el of document.querySelectorAll('body [data-test]')) {
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
