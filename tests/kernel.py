"""A real Jupyter kernel (ipykernel via jupyter_client) driven cell by cell, as a notebook front end would."""

from __future__ import annotations

import ast
import queue
from typing import Any

from jupyter_client.manager import KernelManager


class CellError(AssertionError):
    pass


class Kernel:
    def __init__(self) -> None:
        self.km = KernelManager(kernel_name='python3')
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 30, allow_error: bool = False) -> dict[str, Any]:
        """Execute one cell; returns its stdout, stderr, display/result bundles and error (if any)."""
        msg_id = self.kc.execute(code)
        out: dict[str, Any] = {'stdout': '', 'stderr': '', 'data': [], 'error': None, 'comm_targets': []}
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f'cell did not finish in {timeout}s:\n{code}') from None
            if msg['parent_header'].get('msg_id') != msg_id:
                continue
            kind, content = msg['msg_type'], msg['content']
            if kind == 'stream':
                out[content['name']] += content['text']
            elif kind in ('display_data', 'execute_result'):
                out['data'].append(content['data'])
            elif kind == 'error':
                out['error'] = f"{content['ename']}: {content['evalue']}"
                out['traceback'] = '\n'.join(content['traceback'])
            elif kind == 'comm_open':
                out['comm_targets'].append(content['target_name'])
            elif kind == 'status' and content['execution_state'] == 'idle':
                break
        while self.kc.get_shell_msg(timeout=timeout)['parent_header'].get('msg_id') != msg_id:
            pass  # replies of cells a test started without waiting
        if out['error'] and not allow_error:
            raise CellError(f'{out["error"]}\n{out.get("traceback", "")}')
        return out

    def eval(self, expr: str) -> Any:
        """The value of a Python literal expression in the kernel."""
        text = self.run(f'print(repr(({expr})))')['stdout']
        return ast.literal_eval(text.strip())

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
