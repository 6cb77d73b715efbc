//! The shape of `src/` (issue 15's acceptance), read from the code itself so
//! that it stays true: every path that names a module of the crate
//! (`use crate::…` in all its grouped forms, `crate::x::f()` in a body,
//! `super::` where it leaves a module, and in `lib.rs` the paths relative to
//! the root) is an import. Between top-level modules (`src/x.rs`,
//! `src/x/mod.rs` and everything under `src/x/` are `x`; `lib.rs` is
//! `crate`) the imports must form no cycle; render, model and publish read
//! neither the source nor the HTTP side; auth reads no stage. Comments,
//! doc links and literals are not imports. Plain std, no parser crate: the
//! scanner below knows just enough Rust to find paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// What render, model and publish must not read: the fetcher, and the
/// modules that answer HTTP requests.
const SOURCE_AND_HTTP_SIDE: [&str; 5] = ["source", "api", "auth", "front", "preview"];

/// The stages of the pipeline and what drives them: none of them is
/// auth's business (it reads the shared state, the Snapshot, the config).
const STAGES: [&str; 6] = ["source", "photos", "render", "publish", "cycle", "watch"];

/// Who must not import what, and why.
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "render",
        &SOURCE_AND_HTTP_SIDE,
        "render turns the model's views into artifacts: no raw tables, no requests",
    ),
    (
        "model",
        &SOURCE_AND_HTTP_SIDE,
        "the model is built from leaf row types, not from the fetcher, and serves no request",
    ),
    (
        "publish",
        &SOURCE_AND_HTTP_SIDE,
        "publish writes artifacts: it neither fetches nor serves",
    ),
    ("auth", &STAGES, "auth reads the shared state only"),
];

/// Imports between top-level modules that the code needs although a rule
/// or the no-cycle check refuses them: (importer, imported, why). Each one
/// is a debt; an entry the code no longer needs fails the test, so the
/// table only shrinks.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// A module's path from the crate root (`[]` is the root, `lib.rs`).
type ModulePath = Vec<String>;

/// One path in the code that names a module of the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    from: ModulePath,
    to: ModulePath,
    /// `src/x.rs:12: use crate::y::Z;`
    at: String,
}

/// Imports between top-level modules: importer → imported → where.
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The top-level module `module` belongs to (`crate` for the root).
fn top(module: &[String]) -> &str {
    module.first().map_or("crate", String::as_str)
}

// ------------------------------------------------------------- the scanner

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    /// Any other punctuation; only its position matters.
    Punct,
}

/// The character at `i`, or `'\0'` past the end.
fn char_at(chars: &[char], i: usize) -> char {
    chars.get(i).copied().unwrap_or('\0')
}

/// Skips to just after the closing quote of a (non-raw) literal that
/// opened at `i - 1`, counting lines.
fn skip_quoted(chars: &[char], mut i: usize, quote: char, line: &mut usize) -> usize {
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' {
            i += 1;
        }
        if char_at(chars, i) == '\n' {
            *line += 1;
        }
        i += 1;
    }
    i + 1
}

/// Skips a block comment (nested ones too) that opens at `i`, counting
/// lines; returns the index just after it.
fn skip_block_comment(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    let at = |i: usize| char_at(chars, i);
    let mut depth = 0;
    while i < chars.len() {
        if chars[i] == '/' && at(i + 1) == '*' {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && at(i + 1) == '/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                break;
            }
        } else {
            if chars[i] == '\n' {
                *line += 1;
            }
            i += 1;
        }
    }
    i
}

/// The word starting at `i` (an identifier, a keyword, a number) and what
/// follows it when it opens a literal (`r"…"`, `b'x'`, `r#ident`…): pushes
/// the identifier, if it is one; returns the index just after.
fn word(chars: &[char], mut i: usize, line: &mut usize, out: &mut Vec<(Token, usize)>) -> usize {
    let at = |i: usize| char_at(chars, i);
    let start = i;
    while at(i).is_alphanumeric() || at(i) == '_' {
        i += 1;
    }
    let word: String = chars[start..i].iter().collect();
    let prefix = matches!(word.as_str(), "r" | "b" | "br" | "c" | "cr");
    if prefix && (at(i) == '"' || at(i) == '#') && word != "b" && word != "c" {
        // r"…", r#"…"#, br##"…"## (raw strings), or r#ident.
        let mut hashes = 0;
        while at(i + hashes) == '#' {
            hashes += 1;
        }
        if at(i + hashes) == '"' {
            i += hashes + 1;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                if chars[i] == '\n' {
                    *line += 1;
                }
                i += 1;
            }
            i += closing.len();
        } else {
            // A raw identifier: the word after `r#`.
            i += 1;
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), *line));
        }
    } else if prefix && at(i) == '"' {
        // b"…", c"…"
        i = skip_quoted(chars, i + 1, '"', line);
    } else if word == "b" && at(i) == '\'' {
        // b'x'
        i = skip_quoted(chars, i + 1, '\'', line);
    } else if !word.starts_with(|c: char| c.is_ascii_digit()) {
        out.push((Token::Ident(word), *line));
    }
    i
}

/// The tokens of `text` that can be part of a path, with their line
/// numbers: comments, string, byte and char literals are dropped (so
/// `"crate::x"` and `/// [`crate::x`]` import nothing), lifetimes too.
fn tokens(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| char_at(&chars, i);
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => i = skip_block_comment(&chars, i, &mut line),
            '"' => i = skip_quoted(&chars, i + 1, '"', &mut line),
            '\'' => {
                if at(i + 1) == '\\' || at(i + 2) == '\'' {
                    // A char literal: '\n', '\u{1F600}', '\'', 'x'.
                    i = skip_quoted(&chars, i + 1, '\'', &mut line);
                } else {
                    // A lifetime or a label: its name is no path.
                    i += 1;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                }
            }
            ':' if at(i + 1) == ':' => {
                out.push((Token::PathSep, line));
                i += 2;
            }
            '{' => {
                out.push((Token::Open, line));
                i += 1;
            }
            '}' => {
                out.push((Token::Close, line));
                i += 1;
            }
            ',' => {
                out.push((Token::Comma, line));
                i += 1;
            }
            '*' => {
                out.push((Token::Star, line));
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' => i = word(&chars, i, &mut line, &mut out),
            _ => {
                out.push((Token::Punct, line));
                i += 1;
            }
        }
    }
    out
}

/// The paths of a use tree starting at `tokens[*i]`, relative to the path
/// before it: `a::b` → `[a, b]`; `{a, b::{c, self}}` → `[a], [b, c], [b]`;
/// `*` and `self` → `[]`. Stops at the first token that cannot continue it.
fn use_tree(tokens: &[(Token, usize)], i: &mut usize) -> Vec<ModulePath> {
    match tokens.get(*i).map(|(t, _)| t) {
        Some(Token::Ident(name)) => {
            *i += 1;
            let head = if name == "self" {
                vec![]
            } else {
                vec![name.clone()]
            };
            if matches!(tokens.get(*i), Some((Token::Ident(word), _)) if word == "as") {
                // `a as b`: the alias is no path.
                *i += 2;
                return vec![head];
            }
            if tokens.get(*i).map(|(t, _)| t) != Some(&Token::PathSep) {
                return vec![head];
            }
            *i += 1;
            use_tree(tokens, i)
                .into_iter()
                .map(|rest| head.iter().cloned().chain(rest).collect())
                .collect()
        }
        Some(Token::Open) => {
            *i += 1;
            let mut paths = Vec::new();
            while let Some((token, _)) = tokens.get(*i) {
                match token {
                    Token::Close => {
                        *i += 1;
                        break;
                    }
                    Token::Comma => *i += 1,
                    Token::Ident(_) | Token::Open | Token::Star => {
                        paths.extend(use_tree(tokens, i))
                    }
                    // Not a use tree after all (`crate::f::<T>{…}` is not Rust).
                    _ => break,
                }
            }
            paths
        }
        Some(Token::Star) => {
            *i += 1;
            vec![vec![]]
        }
        _ => vec![vec![]],
    }
}

/// The module `path` (from the root) lands in: its longest prefix that is
/// a module (`crate::render::Theme::new` → `render`).
fn module_of(path: &[String], modules: &BTreeSet<ModulePath>) -> ModulePath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
        .unwrap_or_default()
}

/// Every path in `text` (the file of `module`, named `file` in messages)
/// that names a module of the crate, resolved against `modules`.
fn imports_in(
    text: &str,
    module: &[String],
    file: &str,
    modules: &BTreeSet<ModulePath>,
) -> Vec<Import> {
    let lines: Vec<&str> = text.lines().collect();
    let tokens = tokens(text);
    let top_level: BTreeSet<&str> = modules
        .iter()
        .filter(|m| m.len() == 1)
        .map(|m| m[0].as_str())
        .collect();
    let mut imports = Vec::new();
    // Inline modules (`mod tests { … }`) the scan is inside, each with the
    // brace depth its body opened at: `super` counts from them.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < tokens.len() {
        let (token, line) = &tokens[i];
        let previous = i.checked_sub(1).map(|p| &tokens[p].0);
        let next = tokens.get(i + 1).map(|(t, _)| t);
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(Token::Ident(name)), Some(Token::Open)) =
                    (next, tokens.get(i + 2).map(|(t, _)| t))
                {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Token::Ident(word)
                if next == Some(&Token::PathSep) && previous != Some(&Token::PathSep) =>
            {
                let here: ModulePath = module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(name, _)| name.clone()))
                    .collect();
                // Where the path starts, from the root; None: not the crate's.
                let base: Option<ModulePath> = match word.as_str() {
                    "crate" => Some(vec![]),
                    "super" => Some(here[..here.len().saturating_sub(1)].to_vec()),
                    // In the root, `config::Config` is `crate::config::Config`.
                    w if module.is_empty() && inline.is_empty() && top_level.contains(w) => {
                        Some(vec![w.to_string()])
                    }
                    _ => None,
                };
                if let Some(base) = base {
                    let mut j = i + 2;
                    for rest in use_tree(&tokens, &mut j) {
                        let mut path = base.clone();
                        for segment in rest {
                            if segment == "super" {
                                path.pop();
                            } else {
                                path.push(segment);
                            }
                        }
                        imports.push(Import {
                            from: module.to_vec(),
                            to: module_of(&path, modules),
                            at: format!(
                                "{file}:{line}: {}",
                                lines.get(line - 1).map_or("", |l| l.trim())
                            ),
                        });
                    }
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    imports
}

/// The module a file under `src/` is (`None` for what is not the library:
/// `main.rs` and `bin/`).
fn module_of_file(rel: &Path) -> Option<ModulePath> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.first().map(String::as_str), Some("main.rs" | "bin")) {
        return None;
    }
    let file = parts.pop()?;
    let stem = file.strip_suffix(".rs")?;
    if stem != "mod" && !(stem == "lib" && parts.is_empty()) {
        parts.push(stem.to_string());
    }
    Some(parts)
}

/// Every `.rs` file under `dir`, by path relative to `root`.
fn rust_files(root: &Path, dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// The library's modules (from its file paths) and every import in them.
fn src_imports() -> (BTreeSet<ModulePath>, Vec<Import>) {
    let root = Path::new(SRC);
    let mut files = Vec::new();
    rust_files(root, root, &mut files);
    let sources: Vec<(ModulePath, String, String)> = files
        .iter()
        .filter_map(|rel| {
            let module = module_of_file(rel)?;
            let path = root.join(rel);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            Some((module, format!("src/{}", rel.display()), text))
        })
        .collect();
    assert!(
        sources.len() >= 10,
        "only {} library files found under {SRC}",
        sources.len()
    );
    let modules: BTreeSet<ModulePath> = sources.iter().map(|(m, _, _)| m.clone()).collect();
    let imports = sources
        .iter()
        .flat_map(|(module, file, text)| imports_in(text, module, file, &modules))
        .collect();
    (modules, imports)
}

/// The library's imports between top-level modules, minus [`ALLOWED`].
fn src_graph() -> Graph {
    let graph = graph_of(src_imports().1);
    let edges: usize = graph.values().map(BTreeMap::len).sum();
    assert!(
        edges >= 10,
        "only {edges} imports between modules found: the scanner is broken\n{graph:#?}"
    );
    graph
}

/// The imports between distinct top-level modules, minus [`ALLOWED`].
fn graph_of(imports: impl IntoIterator<Item = Import>) -> Graph {
    let mut graph = Graph::new();
    for import in imports {
        let (from, to) = (top(&import.from), top(&import.to));
        if from != to && !ALLOWED.iter().any(|(f, t, _)| (*f, *t) == (from, to)) {
            let lines = graph
                .entry(from.to_string())
                .or_default()
                .entry(to.to_string())
                .or_default();
            // `use crate::x::{A, B}` is one line for two paths.
            if !lines.contains(&import.at) {
                lines.push(import.at);
            }
        }
    }
    graph
}

// ---------------------------------------------------------------- the graph

/// The strongly connected components of `graph` with more than one module
/// (Tarjan): each is one or more cycles.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            let graph = self.graph;
            for w in graph.get(v).into_iter().flat_map(BTreeMap::keys) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// A shortest cycle through `start` inside `component`, as `a → b → a`.
fn cycle_through(graph: &Graph, component: &[String], start: &str) -> String {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flat_map(BTreeMap::keys) {
            if !component.contains(w) {
                continue;
            }
            if w == start {
                let mut path = vec![start, v];
                let mut at = v;
                while at != start {
                    at = came_from[at];
                    path.push(at);
                }
                path.reverse();
                return path.join(" → ");
            }
            if !came_from.contains_key(w.as_str()) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    component.join(", ")
}

/// What the cycles of `graph` are and which lines make them; empty when
/// there is none.
fn cycle_report(graph: &Graph) -> String {
    let mut report = String::new();
    for component in cycles(graph) {
        report += &format!(
            "\nmodules in a cycle: {}\n  e.g. {}\n",
            component.join(", "),
            cycle_through(graph, &component, &component[0])
        );
        for from in &component {
            for (to, at) in &graph[from] {
                if component.contains(to) {
                    report += &format!("  {from} → {to}:\n");
                    for line in at {
                        report += &format!("    {line}\n");
                    }
                }
            }
        }
    }
    report
}

/// Where `graph` breaks [`RULES`]; empty when it does not.
fn rule_report(graph: &Graph, rules: &[(&str, &[&str], &str)]) -> String {
    let mut report = String::new();
    for (from, forbidden, why) in rules {
        for (to, at) in graph.get(*from).into_iter().flatten() {
            if forbidden.contains(&to.as_str()) {
                report += &format!("\n{from} imports {to} ({why}):\n");
                for line in at {
                    report += &format!("    {line}\n");
                }
            }
        }
    }
    report
}

// ---------------------------------------------------------------- the tests

#[test]
fn the_modules_of_src_import_each_other_without_a_cycle() {
    let report = cycle_report(&src_graph());
    assert!(report.is_empty(), "import cycles in src/:{report}");
}

#[test]
fn render_model_and_publish_import_neither_the_source_nor_the_http_side() {
    let rules: Vec<_> = RULES
        .iter()
        .filter(|(from, _, _)| *from != "auth")
        .copied()
        .collect();
    let report = rule_report(&src_graph(), &rules);
    assert!(report.is_empty(), "imports against the flow:{report}");
}

#[test]
fn auth_imports_no_stage() {
    let rules: Vec<_> = RULES
        .iter()
        .filter(|(from, _, _)| *from == "auth")
        .copied()
        .collect();
    let report = rule_report(&src_graph(), &rules);
    assert!(report.is_empty(), "auth reaches into the pipeline:{report}");
}

#[test]
fn the_rules_and_exceptions_name_what_src_has() {
    let (modules, imports) = src_imports();
    // A renamed importer would make its rule pass by naming nothing.
    for (from, _, _) in RULES {
        assert!(
            modules.contains(&vec![from.to_string()]),
            "RULES names {from}, which is not a module of src/"
        );
    }
    for (from, to, why) in ALLOWED {
        assert!(
            imports
                .iter()
                .any(|i| (top(&i.from), top(&i.to)) == (*from, *to)),
            "{from} no longer imports {to}: remove it from ALLOWED ({why})"
        );
    }
}

// ------------------------------------------------------- the scanner's tests

fn path(s: &str) -> ModulePath {
    s.split("::")
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn known(paths: &[&str]) -> BTreeSet<ModulePath> {
    std::iter::once(vec![])
        .chain(paths.iter().map(|p| path(p)))
        .collect()
}

/// The modules `text`, the file of `module`, imports (as `a::b`, the root
/// as `crate`), in order.
fn imported(text: &str, module: &str, modules: &[&str]) -> Vec<String> {
    imports_in(text, &path(module), "src/x.rs", &known(modules))
        .into_iter()
        .map(|i| {
            if i.to.is_empty() {
                "crate".to_string()
            } else {
                i.to.join("::")
            }
        })
        .collect()
}

#[test]
fn grouped_and_nested_uses_are_each_an_import() {
    let text = "use crate::{a, b::{c::Thing, self}, d::*};\n\
                use crate::e::f as g;\nuse crate::{x::Y as Z, h};";
    assert_eq!(
        imported(text, "x", &["a", "b", "b::c", "d", "e", "h", "x"]),
        ["a", "b::c", "b", "d", "e", "x", "h"]
    );
}

#[test]
fn paths_in_bodies_are_imports_and_visibility_is_not() {
    let text = "pub(crate) fn f() -> crate::a::T { crate::b::make::<u8>(); $crate::c::m!() }";
    assert_eq!(imported(text, "x", &["a", "b", "c", "x"]), ["a", "b", "c"]);
}

#[test]
fn comments_literals_and_lifetimes_are_not_imports() {
    let text = r##"
        // use crate::a;
        /// [`crate::b`] /* crate::c */
        /* outer /* nested crate::d */ still a comment crate::d */
        const S: &str = "crate::e \" crate::e";
        const R: &str = r#"crate::f " crate::f"#;
        const B: &[u8] = b"crate::g";
        const Q: char = '"';
        const P: char = '\'';
        fn h<'a>(x: &'a str) -> &'a str { x }
        use crate::real;
    "##;
    assert_eq!(
        imported(text, "x", &["a", "b", "c", "d", "e", "f", "g", "real", "x"]),
        ["real"]
    );
}

#[test]
fn super_counts_from_the_file_and_its_inline_modules() {
    let text = "use super::Shared;\nfn f() { super::super::w::go(); }\n\
                mod tests { use super::super::Near; use super::super::super::far::Far; }\n\
                use super::sibling::S;";
    assert_eq!(
        imported(text, "x::y", &["x", "x::y", "x::sibling", "w", "far"]),
        ["x", "w", "x", "far", "x::sibling"]
    );
}

#[test]
fn the_root_imports_through_relative_paths() {
    let text = "mod a;\npub mod b;\nuse a::Thing;\nfn run() { b::go(); tokio::spawn(); }";
    assert_eq!(imported(text, "", &["a", "b"]), ["a", "b"]);
}

#[test]
fn files_map_to_modules() {
    let of = |p: &str| module_of_file(Path::new(p)).map(|m| m.join("::"));
    assert_eq!(of("lib.rs").as_deref(), Some(""));
    assert_eq!(of("main.rs"), None);
    assert_eq!(of("bin/tool.rs"), None);
    assert_eq!(of("render.rs").as_deref(), Some("render"));
    assert_eq!(of("auth/mod.rs").as_deref(), Some("auth"));
    assert_eq!(of("auth/session.rs").as_deref(), Some("auth::session"));
}

#[test]
fn a_cycle_is_reported_with_its_modules_and_lines() {
    let import = |from: &str, to: &str| Import {
        from: path(from),
        to: path(to),
        at: format!("src/{from}.rs:1: use crate::{to};"),
    };
    let graph = graph_of([
        import("a", "b::inner"),
        import("b", "c"),
        import("c", "a"),
        import("d", "a"),
        import("a::sub", "a"),
    ]);
    assert_eq!(cycles(&graph), [["a", "b", "c"]]);
    let report = cycle_report(&graph);
    assert!(report.contains("modules in a cycle: a, b, c"), "{report}");
    assert!(report.contains("e.g. a → b → c → a"), "{report}");
    assert!(report.contains("src/c.rs:1: use crate::a;"), "{report}");
    assert!(!report.contains("src/d.rs"), "{report}");
    let rules: &[(&str, &[&str], &str)] = &[("c", &["a"], "why")];
    let broken = rule_report(&graph, rules);
    assert!(broken.contains("c imports a (why)"), "{broken}");
    assert!(cycles(&graph_of([import("a", "b"), import("b", "c")])).is_empty());
}
