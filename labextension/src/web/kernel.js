// The kernel, where the host lets a widget see it (JupyterLab, Notebook 7): a restart or death ends the app, and a
// cell that holds the kernel for a while holds the app's clicks too.

// 'starting' after the view exists means a new kernel process: a restart not seen as 'restarting'.
export const DEAD = new Set(['dead', 'restarting', 'autorestarting', 'starting']);
// The kernel busy for this long: the view says that clicks wait for the running cell.
export const BUSY_MS = 500;

/** Watch `model`'s kernel: `onDead()` once, `onBusy(busy, status)` as it changes. Returns a function that stops. */
export function watchKernel(model, onDead, onBusy) {
  const kernel = model.widget_manager && model.widget_manager.kernel;
  if (!kernel || !kernel.statusChanged) return () => {};
  let gone = false;
  let timer = null;
  const dead = () => {
    if (!gone) {
      gone = true;
      clearTimeout(timer);
      onDead();
    }
  };
  const onStatus = (_, status) => {
    if (DEAD.has(status)) return dead();
    clearTimeout(timer);
    if (status === 'busy') timer = setTimeout(() => onBusy(true, status), BUSY_MS);
    else onBusy(false, status);
  };
  const onConnection = (_, status) => status === 'disconnected' && dead();
  kernel.statusChanged.connect(onStatus);
  if (kernel.connectionStatusChanged) kernel.connectionStatusChanged.connect(onConnection);
  if (DEAD.has(kernel.status)) dead();
  return () => {
    clearTimeout(timer);
    kernel.statusChanged.disconnect(onStatus);
    if (kernel.connectionStatusChanged) kernel.connectionStatusChanged.disconnect(onConnection);
  };
}
