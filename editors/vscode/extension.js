// The tcpspec extension: highlighting comes from syntaxes/ (declared in package.json); this
// starts the language server, `tcpspec lsp`, over stdio and hands it the .tcpspec documents.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("tcpspec");
  const command = config.get("server.command", ["tcpspec", "lsp"]);
  const serverOptions = {
    command: command[0],
    args: command.slice(1),
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "tcpspec" }],
    initializationOptions: { checkTimeout: config.get("check.timeout", 60) },
  };
  client = new LanguageClient("tcpspec", "tcpspec language server", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
