"""The language server (`tcpspec lsp`): analysis.py (a model as the editor sees it: the CLI's
diagnostics), chunks.py (re-parsing only what an edit changed), symbols.py (the name index),
features.py (hover, completion, outline), check_runner.py ("check this property"), server.py
(the pygls wiring) and command.py (the CLI's argument wiring). Only server.py imports pygls."""
