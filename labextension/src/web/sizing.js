// A view as tall as its app: the app's page reports the bottom of its cards (wave_jupyter/static/size.js) and the
// view follows it within bounds; a fixed height, or 0 (fill the container: the preview panel), overrides it.

export const FIT_START = 300;
export const FIT_MIN = 120;
export const FIT_MAX = 1200;
export const FIT_PAD = 16;

/** What the view's body gets for a wanted height (-1: fit, 0: fill, n: pixels) and the app's reported one. */
export function bodyHeight(wanted, fitted) {
  if (wanted === 0) return { fill: true, px: null, mode: 'fill' };
  if (wanted > 0) return { fill: false, px: wanted, mode: 'fixed' };
  const px = fitted === null ? FIT_START : Math.min(FIT_MAX, Math.max(FIT_MIN, fitted + FIT_PAD));
  return { fill: false, px, mode: 'fit' };
}

/** Keep `body` (in `el`) sized for `model`'s height and the app's reports; returns a function that stops it. */
export function sizing(model, el, body) {
  let fitted = null;
  const apply = () => {
    const { fill, px, mode } = bodyHeight(Number(model.get('height')), fitted);
    body.style.height = fill ? '' : `${px}px`;
    body.style.flex = fill ? '1 1 auto' : '';
    el.style.cssText = fill ? 'display:flex;flex-direction:column;height:100%' : '';
    el.dataset.height = mode;
  };
  const onReport = (event) => {
    const frame = body.querySelector('iframe');
    const m = event.data || {};
    if (!frame || event.source !== frame.contentWindow || m.t !== 'wave-jupyter-height' || !(m.h > 0)) return;
    fitted = m.h;
    apply();
  };
  window.addEventListener('message', onReport);
  model.on('change:height', apply);
  apply();
  return () => {
    window.removeEventListener('message', onReport);
    model.off('change:height', apply);
  };
}
