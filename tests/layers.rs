//! The module layering of `src/lib.rs` ("Allowed imports"), enforced: every `crate::…` path in the
//! code under `src/` (in `use` lines and inline, `crate::x::y` or `crate::{x, y::z}`) names a
//! top-level module its own module may import, and every `super::` path stays inside its own
//! top-level module. The binary (`src/main.rs`, `src/cli/`) is checked the same way through its
//! `dmsim::…` paths.
//!
//! The source is read, not compiled: comments (doc links included) and the contents of string and
//! character literals are blanked first, so only code counts. Files of test-only modules (declared
//! `#[cfg(test)] mod name;`, and every file below them) are exempt; inline `#[cfg(test)] mod … { }`
//! blocks are not (see the crate docs for why).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The row of the table that gives every earlier module.
const EVERYTHING_ABOVE: &str = "everything above";

/// The binary's module, which is not in the library.
const BINARY: &str = "cli";

/// A module's allowed imports, in table order.
struct Table {
    rows: Vec<(String, BTreeSet<String>)>,
}

impl Table {
    /// The table of `src/lib.rs`: the rows of the Markdown table after "# Allowed imports".
    fn read(lib: &str) -> Table {
        let section = lib
            .split_once("//! # Allowed imports")
            .expect("src/lib.rs has an \"Allowed imports\" section")
            .1;
        let mut rows: Vec<(String, BTreeSet<String>)> = Vec::new();
        let lines = section
            .lines()
            .map(|l| l.trim_start_matches("//!").trim())
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2); // the header and the separator
        for line in lines {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 2, "a row of two cells: {line}");
            let module = backticked(cells[0])
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("a module name in backticks: {line}"));
            let allowed: BTreeSet<String> = if cells[1] == EVERYTHING_ABOVE {
                rows.iter().map(|(m, _)| m.clone()).collect()
            } else {
                backticked(cells[1]).into_iter().collect()
            };
            for a in &allowed {
                assert!(
                    rows.iter().any(|(m, _)| m == a),
                    "row {module}: {a} has no row above it (rows go bottom-up, so that the graph \
                     has no cycles)"
                );
            }
            assert!(
                rows.iter().all(|(m, _)| *m != module),
                "{module} has two rows"
            );
            rows.push((module, allowed));
        }
        assert!(!rows.is_empty(), "the table has rows");
        Table { rows }
    }

    fn allows(&self, from: &str, to: &str) -> bool {
        from == to
            || self
                .rows
                .iter()
                .any(|(m, allowed)| m == from && allowed.contains(to))
    }

    fn has(&self, module: &str) -> bool {
        self.rows.iter().any(|(m, _)| m == module)
    }

    fn allowed(&self, from: &str) -> Vec<&str> {
        self.rows
            .iter()
            .find(|(m, _)| m == from)
            .map(|(_, a)| a.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// The words in backticks of a table cell.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The source with comments and the insides of string and character literals replaced by spaces
/// (newlines kept, so lines still count), leaving only code.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if !prev_ident && raw_string_start(&chars[i..]).is_some() {
            let (prefix, hashes) = raw_string_start(&chars[i..]).unwrap_or_default();
            out.extend(std::iter::repeat_n(' ', prefix));
            i += prefix;
            // Up to `"` followed by the same number of `#`.
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                    out.extend(std::iter::repeat_n(' ', 1 + hashes));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal (a lifetime or a label has no closing quote right after).
            out.push(' ');
            i += 1;
            if chars.get(i) == Some(&'\\') {
                // The escape and the character it escapes (which may be a quote).
                out.push_str("  ");
                i += 2;
            }
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At the start of a raw string literal (`r"`, `r#"`, `br##"`…): how many characters precede its
/// text, and how many `#` close it.
fn raw_string_start(chars: &[char]) -> Option<(usize, usize)> {
    let mut i = 0;
    if chars.first() == Some(&'b') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    (chars.get(i) == Some(&'"')).then_some((i + 1, hashes))
}

/// An import a file makes: the top-level module a path names, and where.
#[derive(Debug, PartialEq, Eq)]
struct Import {
    line: usize,
    module: String,
    /// The path as written, up to the module name (`crate::server`, `crate::{device`…).
    path: String,
}

/// Every path in `code` starting with `root::` (`crate`, or `dmsim` in the binary), by the
/// top-level module it names: `root::x…` gives `x`, `root::{x, y::z}` gives `x` and `y`.
fn imports(code: &str, root: &str) -> Vec<Import> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    let needle = format!("{root}::");
    let mut from = 0;
    while let Some(at) = code[from..].find(&needle).map(|p| p + from) {
        from = at + needle.len();
        // `crate` as a word (`$crate` counts: it is this crate too), not the end of another path.
        if at > 0 && (ident(bytes[at - 1]) || bytes[..at].ends_with(b"::")) {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[from..];
        let names: Vec<&str> = if let Some(group) = rest.trim_start().strip_prefix('{') {
            top_names_of_group(group)
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'));
            vec![&rest[..end.unwrap_or(rest.len())]]
        };
        for name in names.into_iter().filter(|n| !n.is_empty() && *n != "self") {
            found.push(Import {
                line,
                module: name.to_string(),
                path: format!("{root}::{name}"),
            });
        }
    }
    found
}

/// The first segment of each path of a `{…}` group (the text after its `{`).
fn top_names_of_group(group: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut i = 0;
    let bytes = group.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => break,
            b'}' => depth -= 1,
            b',' if depth == 0 => expecting = true,
            b if expecting && depth == 0 && (b.is_ascii_alphabetic() || b == b'_') => {
                let end = group[i..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(group.len(), |e| e + i);
                names.push(&group[i..end]);
                expecting = false;
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// Lines of `code` where a `super::` path climbs out of the top-level module: `depth` is how deep
/// the file's module is (`src/x.rs` and `src/x/mod.rs` are 1, `src/x/y.rs` 2…), and inline `mod
/// name { … }` blocks add one each.
fn escaping_super_paths(code: &str, depth: usize) -> Vec<usize> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // Brace depths at which inline modules opened.
    let mut open_mods: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let mut escapes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let word_start = i == 0 || !ident(bytes[i - 1]);
        if bytes[i] == b'{' {
            braces += 1;
        } else if bytes[i] == b'}' {
            braces = braces.saturating_sub(1);
            if open_mods.last() == Some(&braces) {
                open_mods.pop();
            }
        } else if word_start && bytes[i..].starts_with(b"mod ") {
            let rest = &bytes[i + 4..];
            let name_end = rest.iter().position(|&b| !ident(b)).unwrap_or(rest.len());
            let after = rest[name_end..].iter().find(|b| !b.is_ascii_whitespace());
            if after == Some(&b'{') {
                open_mods.push(braces);
            }
        } else if word_start && bytes[i..].starts_with(b"super::") && !bytes[..i].ends_with(b"::") {
            let mut k = 0;
            let mut j = i;
            while bytes[j..].starts_with(b"super::") {
                k += 1;
                j += "super::".len();
            }
            if k >= depth + open_mods.len() {
                escapes.push(bytes[..i].iter().filter(|&&b| b == b'\n').count() + 1);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    escapes
}

/// The files of `src/`, each with its top-level module and its depth.
struct SourceFile {
    path: PathBuf,
    module: String,
    depth: usize,
    code: String,
}

fn source_files(src: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let parts: Vec<&str> = rel.iter().map(|p| p.to_str().expect("UTF-8")).collect();
            let module = match parts.as_slice() {
                ["lib.rs"] => continue,
                ["main.rs"] => BINARY.to_string(),
                [file] => file.trim_end_matches(".rs").to_string(),
                [dir, ..] => dir.to_string(),
                [] => unreachable!(),
            };
            let depth = if parts.last() == Some(&"mod.rs") {
                parts.len() - 1
            } else {
                parts.len()
            };
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push(SourceFile {
                path,
                module,
                depth,
                code: code_only(&source),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The names of the modules a file declares as `#[cfg(test)] mod name;` (other attributes and a
/// visibility allowed in between).
fn test_module_declarations(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("#[cfg(test)]") {
        let mut rest = code[at + "#[cfg(test)]".len()..].trim_start();
        while rest.starts_with("#[") {
            rest = rest[rest.find(']').map_or(rest.len(), |e| e + 1)..].trim_start();
        }
        if let Some(vis) = rest.strip_prefix("pub") {
            rest = vis.trim_start();
            if rest.starts_with('(') {
                rest = rest[rest.find(')').map_or(rest.len(), |e| e + 1)..].trim_start();
            }
        }
        let Some(decl) = rest.strip_prefix("mod ") else {
            continue;
        };
        let name_end = decl
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(decl.len());
        if decl[name_end..].trim_start().starts_with(';') {
            names.push(decl[..name_end].to_string());
        }
    }
    names
}

/// The modules `src/lib.rs` declares (`mod name;`, public or not), test-only ones aside.
fn top_level_modules(lib: &str) -> Vec<String> {
    let test_only = test_module_declarations(lib);
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub").map_or(l, |rest| {
                let rest = rest.trim_start();
                match rest.strip_prefix('(') {
                    Some(vis) => vis[vis.find(')').map_or(vis.len(), |e| e + 1)..].trim_start(),
                    None => rest,
                }
            });
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .map(|m| m.trim().to_string())
        .filter(|m| !test_only.contains(m))
        .collect()
}

/// The directories and files of test-only modules: for each `#[cfg(test)] mod name;` in a file,
/// `name.rs` and the directory `name/` where that file's children live.
fn test_only_paths(files: &[SourceFile]) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for f in files {
        let children = match f.path.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => f.path.parent().expect("a dir").to_path_buf(),
            _ => f.path.with_extension(""),
        };
        for name in test_module_declarations(&f.code) {
            paths.push(children.join(format!("{name}.rs")));
            paths.push(children.join(&name));
        }
    }
    paths
}

/// A broken rule, as the test reports it.
struct Breach {
    file: PathBuf,
    line: usize,
    what: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self
            .file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&self.file);
        write!(f, "{}:{}: {}", file.display(), self.line, self.what)
    }
}

fn breaches(root: &Path) -> Vec<Breach> {
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let table = Table::read(&lib);
    let mut found = Vec::new();

    // Every module of the library and the binary has a row, and every row a module.
    let declared: BTreeSet<String> = top_level_modules(&code_only(&lib))
        .into_iter()
        .chain([BINARY.to_string()])
        .collect();
    for (module, _) in &table.rows {
        if !declared.contains(module) {
            found.push(Breach {
                file: src.join("lib.rs"),
                line: 0,
                what: format!("the table has a row for {module}, which is not a module"),
            });
        }
    }
    for module in declared.iter().filter(|m| !table.has(m)) {
        found.push(Breach {
            file: src.join("lib.rs"),
            line: 0,
            what: format!("module {module} has no row in the table"),
        });
    }

    let files = source_files(&src);
    let test_only = test_only_paths(&files);
    for f in &files {
        if test_only.iter().any(|t| f.path.starts_with(t)) {
            continue;
        }
        let root = if f.module == BINARY { "dmsim" } else { "crate" };
        let mut all = imports(&f.code, root);
        if f.module == BINARY {
            // The binary's own `crate::` is the binary: only `cli` lives there.
            all.extend(
                imports(&f.code, "crate")
                    .into_iter()
                    .filter(|i| i.module != BINARY),
            );
        }
        for import in all {
            let what = if !table.has(&import.module) {
                format!(
                    "{} names {}, which has no row in the table of src/lib.rs",
                    import.path, import.module
                )
            } else if !table.allows(&f.module, &import.module) {
                let allowed = table.allowed(&f.module);
                format!(
                    "{} may not import {} ({}); it may import {}",
                    f.module,
                    import.module,
                    import.path,
                    if allowed.is_empty() {
                        "nothing".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )
            } else {
                continue;
            };
            found.push(Breach {
                file: f.path.clone(),
                line: import.line,
                what,
            });
        }
        for line in escaping_super_paths(&f.code, f.depth) {
            found.push(Breach {
                file: f.path.clone(),
                line,
                what: format!(
                    "a super:: path climbs out of {}: name another module with crate::",
                    f.module
                ),
            });
        }
    }
    found
}

#[test]
fn every_import_follows_the_table_of_src_lib_rs() {
    let found = breaches(Path::new(env!("CARGO_MANIFEST_DIR")));
    let list: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        list.is_empty(),
        "imports against the layering of src/lib.rs (\"Allowed imports\"):\n{}",
        list.join("\n")
    );
}

#[test]
fn the_table_is_read_bottom_up_and_everything_above_means_every_earlier_row() {
    let lib = "//! # Allowed imports\n//!\n//! | module | may import |\n//! | --- | --- |\n\
               //! | `a` | |\n//! | `b` | `a` |\n//! | `c` | everything above |\n//!\n//! after\n";
    let table = Table::read(lib);
    assert!(table.allows("b", "a") && !table.allows("a", "b"));
    assert!(table.allows("c", "a") && table.allows("c", "b"));
    assert_eq!(table.allowed("c"), ["a", "b"]);
}

#[test]
#[should_panic(expected = "has no row above it")]
fn a_row_may_not_name_a_module_below_it() {
    Table::read("//! # Allowed imports\n//! | module | may import |\n//! | --- | --- |\n//! | `a` | `b` |\n//! | `b` | |\n");
}

#[test]
fn only_code_counts() {
    let source = r##"
use crate::syncml::{self, Item};
use crate::{device::Device, tree::{Tree, Node}};
// use crate::commented;
/// [`crate::doc_link`]
let url = "https://x/crate::in_a_string";
let raw = r#"crate::in_a_raw_string "quoted""#;
let c = '"'; let d = '\''; fn f<'a>(x: &'a str) -> &'a str { crate::inline::call(x) }
/* crate::block /* nested crate::nested */ */ other::crate::not_a_root;
"##;
    let code = code_only(source);
    let names: Vec<(usize, String)> = imports(&code, "crate")
        .into_iter()
        .map(|i| (i.line, i.module))
        .collect();
    assert_eq!(
        names,
        [
            (2, "syncml".to_string()),
            (3, "device".to_string()),
            (3, "tree".to_string()),
            (8, "inline".to_string()),
        ]
    );
    assert_eq!(code.lines().count(), source.lines().count());
}

#[test]
fn super_paths_may_not_leave_the_top_level_module() {
    let code = code_only(
        "use super::sibling;\nmod tests {\n    use super::*;\n    use super::super::other;\n}\n",
    );
    // In src/x/y.rs (depth 2): `super` is x; inside `mod tests`, `super::super` is x too.
    assert!(escaping_super_paths(&code, 2).is_empty());
    // In src/x.rs (depth 1): `super::sibling` is the crate root's, `super::super` in tests too.
    assert_eq!(escaping_super_paths(&code, 1), [1, 4]);
}

#[test]
fn private_modules_have_rows_too_and_test_only_ones_none() {
    let lib = code_only(
        "mod base;\npub mod wire;\npub(crate) mod inner;\n#[cfg(test)]\nmod tests;\n\
         // mod commented;\nmod inline { }\n",
    );
    assert_eq!(top_level_modules(&lib), ["base", "wire", "inner"]);
}

#[test]
fn test_only_modules_are_told_by_their_declaration() {
    let code = code_only(
        "#[cfg(test)]\nmod tests;\n#[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod util;\n\
         mod real;\n#[cfg(test)]\nmod inline {}\n",
    );
    assert_eq!(test_module_declarations(&code), ["tests", "util"]);
}
