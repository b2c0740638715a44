"""Translations of a checked model for other tools: Promela (SPIN) and SMT-LIB 2.

`tcpspec.export(model, to=...)` is also the public API's call (tcpspec/api.py). Once this
package is imported, Python binds `tcpspec.export` to it, so it forwards calls to that function:
`tcpspec.export(...)` means the same before and after.
"""

import tcpspec

tcpspec._forward_calls(__name__, "export")
