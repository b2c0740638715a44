"""The curated syntax-error messages, and the TLA+ and Promela habits answered with their tcpspec
spelling, each with the snippets that must produce it.

A table of data, apart from the code that matches errors against it (syntax_errors.py), so that
the messages can be read, reviewed and tested (tests/test_parser.py, docs/errors.md) as one list.
"""

from __future__ import annotations

# The curated messages: message -> snippets that fail at the point the message describes. An error
# matches a message when the parser stops in the same state (see syntax_errors._normalized); an
# example whose offending token is the same wins over one that only shares the state. `{found}` is the offending
# token as written. tests/test_parser.py checks that every example produces its own message.
SYNTAX_MESSAGES: dict[str, list[str]] = {
    "expected ';' after the assignment": [
        "process P() { transition t { x := 1 } }",
        "process P() { transition t { x := 1 y := 2; } }",
    ],
    "expected ':=' to assign (a variable is assigned with ':=', not '=')": [
        "process P() { transition t { x = 1; } }",
    ],
    "'=' is not a comparison: write '==' (TLA+'s '=' is '==' here; ':=' assigns)": [
        "invariant i: x = 1;",
        "reachable r: x = 1;",
        "invariant i: (x = 1);",
        "invariant i: y && x = 1;",
        "process P() { transition t when x = 1 { } }",
        "process P() { transition t choose n: 0..1 when n = 1 { } }",
        "process P() { transition t receive m from c when m.a = 1 { } }",
        "process P() { transition t { if x = 1 { } } }",
        "process P() { transition t { y := x = 1; } }",
    ],
    "unexpected ':': a record literal in a 'when' or 'if' condition must be in parentheses, "
    "e.g. 'when m == (Segment { syn: true }) {'": [
        "process P() { transition t when m == Segment { syn: true } { } }",
    ],
    "expected ':=' after the variable name": [
        "process P() { transition t { x 1; } }",
    ],
    "unexpected {found}: a transition's 'choose' must come before 'receive' and 'when'": [
        "process P() { transition t receive m from c choose p: bool { } }",
        "process P() { transition t when x choose p: bool { } }",
    ],
    "unexpected {found}: a transition's 'receive' must come before 'when'": [
        "process P() { transition t when x receive m from c { } }",
    ],
    "expected '{' to start the transition's body": [
        "process P() { transition t when x; }",
        "process P() { transition t x := 1; }",
        "process P() { transition t receive m from c; }",
    ],
    "expected ';' after the declaration": [
        "const A = 1 const B = 2;",
        "process P() { var x: bool = true var y: bool; }",
        "instance i = P() instance j = P();",
    ],
    "expected ';' after the property": [
        "invariant i: x invariant j: y;",
        "reachable r: x }",
    ],
    "expected ';' after the statement": [
        "process P() { transition t { send c m } }",
        "process P() { transition t { skip } }",
    ],
    "expected a type (bool, seqN, bvN, LO..HI or a type name)": [
        "process P() { var x: ; }",
        "type T = ;",
    ],
    "a variable needs a type: 'var NAME: TYPE = VALUE;'": [
        "process P() { var x = 1; }",
    ],
    "a property needs a name: 'invariant NAME: EXPR;'": [
        "invariant x == 1;",
        "reachable x == 1;",
        "step x == 1;",
    ],
    "a step property needs 'ensure EXPR;'": [
        "step s: when x;",
        "step s: on receive r from c;",
    ],
    "unexpected {found}: a step property's 'on' list must come before 'when'": [
        "step s: when x on receive r from c ensure y;",
    ],
    "expected an event: 'receive NAME from CHANNEL' or 'send NAME to CHANNEL'": [
        "step s: on x ensure y;",
    ],
    "expected '[CAPACITY]' after the channel's message type": [
        "channel c: M;",
        "channel c: M with loss;",
    ],
    "expected a channel in 'send CHANNEL MESSAGE;'": [
        "process P() { transition t { send Segment { a: 1 }; } }",
    ],
    "expected 'to' in 'send NAME to CHANNEL'": ["step s: on send m c ensure y;"],
    "expected 'from' in 'receive NAME from CHANNEL'": [
        "step s: on receive m c ensure y;",
        "process P() { transition t receive m c { } }",
    ],
    "'else' needs a block or another 'if': 'else { ... }' or 'else if COND { ... }'": [
        "process P() { transition t { if x { } else y := 1; } }",
    ],
    "an 'if' statement's branches are blocks: 'if COND { ... }' ('then' is only for "
    "'if C then A else B' expressions)": [
        "process P() { transition t { if x then y := 1; } }",
    ],
    "an 'if' expression needs an 'else' branch: 'if C then A else B'": [
        "const A = if x then 1;",
    ],
    "expected a field name after '.'": ["const A = x.;", "const A = x.1;"],
    "an import needs a quoted path: 'import \"file.tcpspec\";'": ["import x;"],
    "the arguments of an instance are named: 'instance i = P(param: value);'": [
        "instance i = P(1);",
        "instance i = P(x);",
    ],
    "a doc comment ('///') must be followed by the declaration it documents": [
        "/// d\n}",
        "/// d\nimport \"a.tcpspec\";",
        "/// d",
        "process P() { /// d\n }",
    ],
    "unexpected {found}: variables and transitions belong inside a process": [
        "var x: bool;",
        "transition t { }",
    ],
    "unexpected {found}: expected a declaration (const, type, enum, message, channel, "
    "process, instance, invariant, reachable, step or import)": [
        "x := 1;",
        "}",
    ],
    "unexpected {found}: only variables, transitions and properties can be declared "
    "inside a process": [
        "process P() { const A = 1; }",
        "process P() { instance i = P(); }",
    ],
    "unexpected {found}: expected a variable, transition or property inside a process": [
        "process P() { x := 1; }",
    ],
}

ONLY_FOR = {
    "'=' is not a comparison: write '==' (TLA+'s '=' is '==' here; ':=' assigns)": {"="},
    "unexpected {found}: a transition's 'choose' must come before 'receive' and 'when'": {"choose"},
    "unexpected {found}: a transition's 'receive' must come before 'when'": {"receive"},
}

# Habits from TLA+ and Promela: message -> (a pattern found on the error's line, spanning the error
# column, and examples that must give the message). Checked before SYNTAX_MESSAGES, for lexical
# and token errors alike: these are what a TLA+ or Promela user writes first, and the fix is a
# spelling. tests/test_parser.py checks every example; docs/errors.md lists them.
HABITS: dict[str, tuple[str, list[str]]] = {
    "TLA+'s '/\\' is '&&' here (and)": (r"/\\", ["invariant i: a /\\ b;"]),
    "TLA+'s '\\/' is '||' here (or)": (r"\\/", ["invariant i: a \\/ b;"]),
    "TLA+'s '\\in' is 'in' here: 'x in s', 'forall j in 0..N-1: ...'": (
        r"\\in\b", ["invariant i: x \\in s;", "invariant i: forall j \\in 0..2: j > 0;"]),
    "TLA+'s '\\notin' is written '!(x in s)' here": (r"\\notin\b", ["invariant i: x \\notin s;"]),
    "TLA+'s '\\A x \\in S: P' is 'forall x in S: P' here (and '\\E' is 'exists')": (
        r"\\[AE]\b", ["invariant i: \\A x \\in S: x;", "invariant i: \\E x \\in S: x;"]),
    "TLA+'s '~' is '!' here (not)": (r"~(?!>)", ["invariant i: ~a;"]),
    "TLA+'s '#' and '/=' are '!=' here (not equal)": (r"#|/=", ["invariant i: a # b;", "invariant i: a /= b;"]),
    "'=>' is not an operator: implication is '==>'": (r"(?<![=<])=>", ["invariant i: a => b;"]),
    "TLA+'s '<=>' is '==' on bools here": (r"<=>", ["invariant i: a <=> b;"]),
    "TLA+'s x' = e is 'x := e;' here: a statement gives a variable its new value with ':='": (
        r"\b\w+'\s*:?=(?!=)", ["process P() { transition t { x' = x + 1; } }",
                               "process P() { transition t { x' := 1; } }"]),
    "there is no UNCHANGED: a transition leaves every variable it does not assign as it was": (
        r"\bUNCHANGED\b.*", ["process P() { transition t { UNCHANGED x; } }",
                              "process P() { transition t { UNCHANGED <<x, y>>; } }"]),
    "a TLA+ definition 'Name == e' is 'def name(): T = e;' here (and a property is 'invariant name: e;')": (
        r"^\s*\w+\s*==", ["Inv == x > 1;", "TypeOK == x \\in 0..3"]),
    "TLA+'s VARIABLES are declared in a process: 'var x: T = init;' (see docs/language.md)": (
        r"^\s*VARIABLES?\b", ["VARIABLES x, y", "VARIABLE x"]),
    "TLA+'s CONSTANTS are 'const N = 3;' here (the value is the default; -D N=5 changes it)": (
        r"^\s*CONSTANTS?\b", ["CONSTANT N", "CONSTANTS N, M"]),
    "TLA+'s EXTENDS is 'import \"file.tcpspec\";' here": (r"^\s*EXTENDS\b", ["EXTENDS Naturals"]),
    "TLA+'s and SPIN's '[]' and '<>' are 'always' and 'eventually' here: 'temporal NAME: always eventually P;'": (
        r"\[\]|<>", ["temporal t: []<>p;", "temporal t: <>[](p);"]),
    "'P ~> Q' is a declaration of its own ('leads_to NAME: P ~> Q;'); inside a temporal formula write "
    "'always (P ==> eventually Q)'": (r"~>", ["temporal t: p ~> q;", "temporal t: always eventually p ==> (p ~> q);"]),
    "SPIN's 'ltl NAME { F }' is 'temporal NAME: F;' here (with 'always', 'eventually', '!', '&&', '||', '==>')": (
        r"^\s*ltl\b", ["ltl p1 { [] (x > 0) }"]),
    "Promela's 'atomic { }' is not needed: a transition is one atomic step": (
        r"\batomic\s*\{", ["process P() { transition t { atomic { x := 1; } } }"]),
    "Promela's 'c ! m' is 'send c m;' here": (r"\b\w+\s*!(?!=)\s*\w", ["process P() { transition t { c ! m; } }"]),
    "Promela's 'c ? m' is 'receive m from c' in the transition's header": (
        r"\b\w+\s*\?", ["process P() { transition t { c ? m; } }"]),
    "Promela's '::' options are written 'if COND { ... } else { ... }' here, or one transition each": (
        r"::", ["process P() { transition t { if :: x -> y := 1; fi } }",
                "process P() { transition t { do :: skip; od } }"]),
    "Promela's 'guard -> action' is 'when GUARD { ... }' (or 'if GUARD { ... }') here; "
    "'->' is for map types and literals ('==>' is implication)": (
        r"->", ["process P() { transition t { x := 1 -> y; } }", "invariant i: a -> b;"]),
}
