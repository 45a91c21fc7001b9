//! The shape of the library, read from its source: the modules' "uses"
//! graph has no cycle, imports go only downwards through the layers
//! (`http` → `domain` → `storage` → `model`), and nothing below `http`
//! names actix-web.
//!
//! `src/` is parsed with `syn`. An edge A → B means a path written in
//! module A (a `use`, a type, an expression, or `crate::`/`super::`/`self::`
//! tokens inside a macro call or attribute) names module B or an item in
//! it. `mod b;` alone is no edge: owning is not using. Tests (`#[cfg(test)]`
//! modules, `#[test]` functions) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

type ModPath = Vec<String>;

struct Module {
    file: PathBuf,
    /// Raw paths written in this module, with a short text for messages.
    paths: Vec<(ModPath, String)>,
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        format!("crate::{}", m.join("::"))
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let t = a.meta.require_list().map(|l| l.tokens.to_string()).unwrap_or_default();
            t.trim() == "test"
        }
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find(|a| a.path().is_ident("path")).and_then(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Collects the paths of one module; nested `mod`s are queued, not entered.
struct Collector<'a> {
    paths: Vec<(ModPath, String)>,
    nested: Vec<&'a syn::ItemMod>,
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut ModPath, out: &mut Vec<ModPath>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut v = prefix.clone();
            if n.ident != "self" {
                v.push(n.ident.to_string());
            }
            out.push(v);
        }
        syn::UseTree::Rename(r) => {
            let mut v = prefix.clone();
            if r.ident != "self" {
                v.push(r.ident.to_string());
            }
            out.push(v);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| flatten_use(t, prefix, out)),
    }
}

/// `crate::a::b`, `super::x`, `self::y` sequences inside unparsed tokens.
fn scan_tokens(ts: &TokenStream, out: &mut Vec<(ModPath, String)>) {
    let toks: Vec<TokenTree> = ts.clone().into_iter().collect();
    let mut i = 0;
    while i < toks.len() {
        if let TokenTree::Group(g) = &toks[i] {
            scan_tokens(&g.stream(), out);
            i += 1;
            continue;
        }
        let is_root = matches!(&toks[i], TokenTree::Ident(id) if id == "crate" || id == "super" || id == "self");
        if is_root {
            let mut segs = vec![toks[i].to_string()];
            let mut j = i + 1;
            // `::` is two `:` puncts followed by an ident.
            while matches!(toks.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':')
                && matches!(toks.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
            {
                match toks.get(j + 2) {
                    Some(TokenTree::Ident(id)) => {
                        segs.push(id.to_string());
                        j += 3;
                    }
                    _ => break,
                }
            }
            if segs.len() > 1 {
                out.push((segs.clone(), format!("{} (in macro/attr)", segs.join("::"))));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
}

impl<'a> Visit<'a> for Collector<'a> {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            self.nested.push(m);
        }
    }
    /// `pub(super)` names who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'a syn::Visibility) {}
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        if !f.attrs.iter().any(|a| a.path().is_ident("test")) {
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        if u.leading_colon.is_some() {
            return;
        }
        let mut out = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut out);
        for p in out {
            let text = format!("use {}", p.join("::"));
            self.paths.push((p, text));
        }
    }
    fn visit_path(&mut self, p: &'a syn::Path) {
        if p.leading_colon.is_none() {
            let segs: ModPath = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let text = segs.join("::");
            self.paths.push((segs, text));
        }
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        scan_tokens(&m.tokens, &mut self.paths);
        syn::visit::visit_macro(self, m);
    }
    fn visit_attribute(&mut self, a: &'a syn::Attribute) {
        if let syn::Meta::List(l) = &a.meta {
            scan_tokens(&l.tokens, &mut self.paths);
        }
        syn::visit::visit_attribute(self, a);
    }
}

fn load_items(
    items: &[syn::Item],
    here: ModPath,
    file: &Path,
    child_dir: PathBuf,
    mods: &mut BTreeMap<ModPath, Module>,
) {
    let mut c = Collector { paths: Vec::new(), nested: Vec::new() };
    for item in items {
        c.visit_item(item);
    }
    mods.insert(here.clone(), Module { file: file.to_path_buf(), paths: c.paths });
    for m in c.nested {
        let mut sub = here.clone();
        sub.push(m.ident.to_string());
        match &m.content {
            Some((_, inner)) => load_items(inner, sub, file, child_dir.join(m.ident.to_string()), mods),
            None => {
                let (f, dir) = if let Some(p) = path_attr(&m.attrs) {
                    let f = file.parent().unwrap().join(p);
                    let d = f.with_extension("");
                    (f, d)
                } else {
                    let flat = child_dir.join(format!("{}.rs", m.ident));
                    if flat.exists() {
                        (flat, child_dir.join(m.ident.to_string()))
                    } else {
                        (child_dir.join(m.ident.to_string()).join("mod.rs"), child_dir.join(m.ident.to_string()))
                    }
                };
                load_file(&f, sub, dir, mods);
            }
        }
    }
}

fn load_file(file: &Path, here: ModPath, child_dir: PathBuf, mods: &mut BTreeMap<ModPath, Module>) {
    let src = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let ast = syn::parse_file(&src).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    load_items(&ast.items, here, file, child_dir, mods);
}

/// Resolves a written path to the module that holds what it names.
fn resolve(here: &[String], segs: &[String], mods: &BTreeMap<ModPath, Module>) -> Option<ModPath> {
    let mut base: ModPath;
    let mut rest = segs;
    match segs.first()?.as_str() {
        "crate" => {
            base = Vec::new();
            rest = &segs[1..];
        }
        "self" | "super" => {
            base = here.to_vec();
            while let Some(s) = rest.first() {
                match s.as_str() {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        first => {
            // A bare path is ours only if it starts with a child module's name.
            let mut child = here.to_vec();
            child.push(first.to_string());
            if !mods.contains_key(&child) {
                return None;
            }
            base = here.to_vec();
        }
    }
    for s in rest {
        base.push(s.clone());
        if !mods.contains_key(&base) {
            base.pop();
            break;
        }
    }
    Some(base)
}

/// The library's modules and the edges between them, with the first
/// place each edge is written.
struct Graph {
    modules: BTreeMap<ModPath, Module>,
    edges: BTreeMap<ModPath, BTreeMap<ModPath, String>>,
}

impl Graph {
    fn read(src: &Path) -> Self {
        let mut modules = BTreeMap::new();
        load_file(&src.join("lib.rs"), Vec::new(), src.to_path_buf(), &mut modules);
        let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
        for (here, module) in &modules {
            for (segments, text) in &module.paths {
                if let Some(to) = resolve(here, segments, &modules) {
                    if &to != here {
                        let place =
                            format!("{}: {text}", module.file.strip_prefix(src).unwrap_or(&module.file).display());
                        edges.entry(here.clone()).or_default().entry(to).or_insert(place);
                    }
                }
            }
        }
        Self { modules, edges }
    }

    /// Every cycle, with the edges that make it; empty when there is none.
    fn cycles(&self) -> String {
        let ids: Vec<&ModPath> = self.modules.keys().collect();
        let index: BTreeMap<&ModPath, usize> = ids.iter().enumerate().map(|(i, m)| (*m, i)).collect();
        let successors: Vec<Vec<usize>> = ids
            .iter()
            .map(|m| self.edges.get(*m).map(|t| t.keys().map(|k| index[k]).collect()).unwrap_or_default())
            .collect();
        let mut report = String::new();
        for component in Tarjan::run(&successors) {
            let set: BTreeSet<usize> = component.iter().copied().collect();
            let mut names: Vec<String> = component.iter().map(|&i| name(ids[i])).collect();
            names.sort();
            report += &format!("\ncycle among {} modules: {}\n", component.len(), names.join(", "));
            for &i in &set {
                for (to, place) in self.edges.get(ids[i]).into_iter().flatten() {
                    if set.contains(&index[to]) {
                        report += &format!("  {} -> {}   ({place})\n", name(ids[i]), name(to));
                    }
                }
            }
        }
        report
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules from the bottom up: a module may use its own
/// layer and those below, never one above.
const LAYERS: &[&str] = &["model", "storage", "domain", "seed", "import", "config", "http", "cli"];

#[test]
fn the_module_graph_has_no_cycle() {
    let report = Graph::read(&src_dir()).cycles();
    assert!(report.is_empty(), "module import cycles in the library:{report}");
}

#[test]
fn imports_go_only_down_the_layers() {
    let graph = Graph::read(&src_dir());
    let layer = |module: &ModPath| module.first().and_then(|top| LAYERS.iter().position(|l| l == top));
    let mut upwards = Vec::new();
    for (from, edges) in &graph.edges {
        for (to, place) in edges {
            if let (Some(below), Some(above)) = (layer(from), layer(to)) {
                if above > below {
                    upwards.push(format!("{} -> {}   ({place})", name(from), name(to)));
                }
            }
        }
    }
    let tops: BTreeSet<&str> = graph.modules.keys().filter_map(|m| m.first()).map(String::as_str).collect();
    let unplaced: Vec<&&str> = tops.iter().filter(|t| !LAYERS.contains(t)).collect();
    assert!(unplaced.is_empty(), "top-level modules with no layer in LAYERS: {unplaced:?}");
    assert!(upwards.is_empty(), "imports that go up a layer:\n{}", upwards.join("\n"));
}

/// The checks above catch what they are for, on a small tree written here.
#[test]
fn the_graph_reader_sees_cycles_and_the_layers() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let write = |file: &str, text: &str| std::fs::write(dir.path().join(file), text).expect("written");
    std::fs::create_dir(dir.path().join("a")).expect("a folder");
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    write("a/mod.rs", "mod inner;\npub struct A;\n");
    // A child using its parent's item is no cycle by itself.
    write("a/inner.rs", "use super::A;\n");
    write("b.rs", "pub fn b() -> crate::c::C { crate::c::C }\n");
    write("c.rs", "pub struct C;\n#[cfg(test)]\nmod tests {\n    use crate::b::b;\n}\n");
    assert!(Graph::read(dir.path()).cycles().is_empty());
    write("c.rs", "pub struct C;\nfn f() { let _ = format!(\"{:?}\", crate::b::b as fn() -> _); }\n");
    let report = Graph::read(dir.path()).cycles();
    assert!(report.contains("crate::b, crate::c"), "{report}");
    let ts: TokenStream = "use actix_web::web; // actix_web\nconst S: &str = \"actix_web\";".parse().expect("tokens");
    assert!(mentions(&ts, "actix_web"));
    let ts: TokenStream = "// actix_web\nconst S: &str = \"actix_web\";".parse().expect("tokens");
    assert!(!mentions(&ts, "actix_web"));
}

#[test]
fn nothing_below_http_names_actix_web() {
    let mut named = Vec::new();
    for dir in ["domain", "storage", "model"] {
        let mut todo = vec![src_dir().join(dir)];
        while let Some(folder) = todo.pop() {
            for entry in std::fs::read_dir(&folder).expect("a source folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    todo.push(path);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    let tokens: TokenStream = text.parse().unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                    if mentions(&tokens, "actix_web") {
                        named.push(path.display().to_string());
                    }
                }
            }
        }
    }
    assert!(named.is_empty(), "actix_web is named in: {named:?}");
}

/// True if `ident` appears as an identifier anywhere (code, macro input,
/// attributes); comments and string literals do not count.
fn mentions(ts: &TokenStream, ident: &str) -> bool {
    ts.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == ident,
        TokenTree::Group(g) => mentions(&g.stream(), ident),
        _ => false,
    })
}

struct Tarjan<'a> {
    succ: &'a [Vec<usize>],
    index: Vec<usize>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    sccs: Vec<Vec<usize>>,
}

impl<'a> Tarjan<'a> {
    fn run(succ: &'a [Vec<usize>]) -> Vec<Vec<usize>> {
        let n = succ.len();
        let mut t = Tarjan {
            succ,
            index: vec![usize::MAX; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            sccs: Vec::new(),
        };
        for v in 0..n {
            if t.index[v] == usize::MAX {
                t.visit(v);
            }
        }
        t.sccs
    }

    fn visit(&mut self, v: usize) {
        self.index[v] = self.next;
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &self.succ[v] {
            if self.index[w] == usize::MAX {
                self.visit(w);
                self.low[v] = self.low[v].min(self.low[w]);
            } else if self.on_stack[w] {
                self.low[v] = self.low[v].min(self.index[w]);
            }
        }
        if self.low[v] == self.index[v] {
            let mut c = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                c.push(w);
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                self.sccs.push(c);
            }
        }
    }
}
