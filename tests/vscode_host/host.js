// A small stand-in for VS Code's notebook webview: it renders a kernel's outputs with VS Code's own widget manager
// (@vscode/jupyter-ipywidgets8: `activate()`, `window.vscIPyWidgets8.load()`, then `new WidgetManager(kernel, element,
// scriptLoader, logger, state)`), over a @jupyterlab/services connection to a real kernel, and loads third-party
// widgets' AMD scripts (anywidget's) the way VS Code does, from the kernel environment's nbextensions.
//
// ?server=<Jupyter server URL>&token=<its token>&nbextensions=<where the environment's nbextensions are served>
// window.run(code) executes a cell and renders what it shows; it resolves to its text/plain results.

import { KernelAPI, KernelConnection, ServerConnection } from '@jupyterlab/services';
import { activate } from '@vscode/jupyter-ipywidgets8';

const params = new URLSearchParams(location.search);
const WIDGET = 'application/vnd.jupyter.widget-view+json';

async function main() {
  const baseUrl = params.get('server');
  const settings = ServerConnection.makeSettings({
    baseUrl, wsUrl: baseUrl.replace(/^http/, 'ws'), token: params.get('token'), appendToken: true,
  });
  // One kernel and its connection, with no manager: a manager polls the server's kernel list, and that poll is no
  // part of what the test watches (as VS Code's own host, it keeps the console to the view's messages).
  const model = await KernelAPI.startNew({ name: 'python3' }, settings);
  const kernel = new KernelConnection({ model, serverSettings: settings });
  activate();
  window.vscIPyWidgets8.load();
  const nbextensions = params.get('nbextensions');
  const scriptLoader = {
    widgetsRegisteredInRequireJs: new Set(),
    loadWidgetScript: (module) => new Promise((resolve, reject) => {
      window.requirejs.config({ paths: { [module]: `${nbextensions}/${module}/index` } });
      window.requirejs([module], resolve, reject);
    }),
    successHandler: () => {},
    errorHandler: (className, moduleName, version, error) => console.error('widget load failed', moduleName, error),
  };
  const outputs = document.getElementById('outputs');
  const manager = new window.vscIPyWidgets.WidgetManager(kernel, outputs, scriptLoader, () => {}, undefined);

  async function show(data) {
    const node = document.createElement('div');
    node.className = 'output';
    outputs.append(node);
    const model = await manager.get_model(data[WIDGET].model_id);
    const view = await manager.create_view(model);
    await manager.display_view(undefined, view, { node });
  }

  window.run = async (code) => {
    const texts = [];
    const shown = [];
    const future = kernel.requestExecute({ code });
    future.onIOPub = (msg) => {
      const type = msg.header.msg_type;
      if (type === 'execute_result' || type === 'display_data') {
        if (msg.content.data[WIDGET]) {
          shown.push(show(msg.content.data).catch((e) => {
            console.error('the widget could not be shown', e);
            texts.push(`not shown: ${e}`);
          }));
        }
        else if (msg.content.data['text/plain']) texts.push(msg.content.data['text/plain']);
      } else if (type === 'stream') texts.push(msg.content.text);
      else if (type === 'error') texts.push(`${msg.content.ename}: ${msg.content.evalue}`);
    };
    await future.done;
    await Promise.all(shown);
    return texts.join('\n');
  };
  window.hostReady = true;
}

main().catch((e) => {
  console.error('the test host failed', e);
  window.hostError = String(e);
});
