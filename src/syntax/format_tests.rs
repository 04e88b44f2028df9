//! Tests of the formatter: it never changes meaning, it is stable, and its layout rules.

use std::path::{Path, PathBuf};

use super::ast::{Arg, Expr, ExprKind, File, Ident, Item};
use super::format;
use crate::span::Span;

/// Formats `text`, which must parse.
fn fmt(text: &str) -> String {
    format(text).unwrap_or_else(|errors| panic!("unexpected errors: {errors:#?}"))
}

/// The tree of `text` with every span zeroed: what it means, not where it was written.
fn meaning(text: &str) -> File {
    let mut file = super::parse::file(text).expect("the text parses");
    for item in &mut file.items {
        match item {
            Item::Import(i) => {
                i.path_span = Span::default();
                i.span = Span::default();
                ident(&mut i.alias);
            }
            Item::Setting(s) => {
                s.span = Span::default();
                ident(&mut s.name);
                expr(&mut s.value);
            }
            Item::Decl(d) => {
                d.span = Span::default();
                d.kind_span = Span::default();
                ident(&mut d.name);
                d.head.iter_mut().for_each(expr);
                for f in &mut d.fields {
                    f.span = Span::default();
                    ident(&mut f.name);
                    expr(&mut f.value);
                }
            }
        }
    }
    file
}

fn ident(i: &mut Ident) {
    i.span = Span::default();
}

fn expr(e: &mut Expr) {
    e.span = Span::default();
    let args = |args: &mut Vec<Arg>| {
        for a in args {
            a.span = Span::default();
            a.name.iter_mut().for_each(ident);
            expr(&mut a.value);
        }
    };
    match &mut e.kind {
        ExprKind::List(items) => items.iter_mut().for_each(expr),
        ExprKind::Call { callee, args: a } => {
            ident(callee);
            args(a);
        }
        ExprKind::Applied { head, args: a } => {
            expr(head);
            args(a);
        }
        ExprKind::Path(parts) => parts.iter_mut().for_each(ident),
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) | ExprKind::Range { .. } => {}
    }
}

/// Every `.munl` file under `dir`, sorted.
fn munl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(munl_files(&path));
        } else if path.extension().is_some_and(|e| e == "munl") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A snapshot name for a file: its path from the crate root, `/` as `__`.
fn snapshot_name(path: &Path) -> String {
    let relative = path.strip_prefix(root()).unwrap().with_extension("");
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("fmt_{}", parts.join("__"))
}

#[test]
fn formatting_never_changes_meaning_and_is_stable() {
    let mut files = munl_files(&root().join("experiments"));
    files.extend(munl_files(&root().join("tests/fixtures")));
    assert!(files.len() > 20, "found only {files:?}");
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(formatted) = format(&text) else {
            assert!(super::parse::file(&text).is_err(), "{}: formatting failed on a file that parses", path.display());
            continue;
        };
        assert_eq!(meaning(&formatted), meaning(&text), "{}: formatting changed the tree", path.display());
        assert_eq!(fmt(&formatted), formatted, "{}: formatting again changes it", path.display());
        checked += 1;
    }
    assert!(checked > 20);
}

#[test]
fn every_example_and_fixture_formatted() {
    let mut files = munl_files(&root().join("experiments"));
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "munl"))
        .collect();
    fixtures.sort();
    files.extend(fixtures);
    for path in files {
        if let Ok(formatted) = format(&std::fs::read_to_string(&path).unwrap()) {
            insta::assert_snapshot!(snapshot_name(&path), formatted);
        }
    }
}

/// Odd but valid layouts: each must keep its meaning and format the same a second time.
const ODD: &[&str] = &[
    "",
    "\n\n",
    "# only a comment",
    "# a comment\n\n\n# another\n",
    "seeds=0..3;device=cpu",
    "seeds = 0 .. 3 # c\r\ndevice = auto\r\n",
    "train t {}\ntrain u { }\ntrain v {\n}\ntrain w {;;}\n",
    "train t = base{a=1;b=[1,2,];c=f(x:1,)}",
    "unlearn u = python ( \"m.py\" ) ( original , lr : 0.1 ) { a = 1 }",
    "report r {\n  xs = [\n  ]\n  ys = [ # c\n  ]\n  zs = f(\n    a, b,\n    # c\n\n\n    c\n  )\n}\n",
    "report r { xs = [f(\n1), g(2\n)] }\n",
    "model m = a.b . c\n",
    "dataset d { # after brace\n\n\n  # first\n  a = 1 # one\n  bb = 2\n\n\n  # before close\n\n} # after block\n# end",
    "import \"a.munl\" as a # c\nimport \"bb.munl\" as bb\nseeds = 1\n",
];

#[test]
fn odd_layouts_keep_their_meaning_and_are_stable() {
    for text in ODD {
        let formatted = fmt(text);
        assert_eq!(meaning(&formatted), meaning(text), "{text:?} became {formatted:?}");
        assert_eq!(fmt(&formatted), formatted, "{text:?} became {formatted:?}");
        assert!(!formatted.lines().any(|l| l.ends_with(' ')), "{formatted:?}");
    }
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let errors = format("train t {\n  epochs 5\n}\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    let errors = format("report r { a = \"\\x\" }\n").unwrap_err();
    assert!(matches!(errors[0], super::SyntaxError::BadEscape { .. }));
}

#[test]
fn comments_stay_where_they_were() {
    let text = r#"# leading comment
seeds = 0..3 # after a setting
   # indented comment

dataset d { # after the brace
  # inside a block
  source = mnist("a # not a comment") # after a field
  split = random( # after a paren
    val: 0.1, # after an argument
    # between arguments
    seed: 1
  ) # after the call
  shape = [ # after a bracket
    1, # one
    28
  ]
} # after the block
# trailing comment without newline"#;
    let expected = r#"# leading comment
seeds = 0..3  # after a setting
# indented comment

dataset d {  # after the brace
  # inside a block
  source = mnist("a # not a comment")  # after a field
  split  = random(  # after a paren
    val: 0.1,  # after an argument
    # between arguments
    seed: 1,
  )  # after the call
  shape = [  # after a bracket
    1,  # one
    28,
  ]
}  # after the block
# trailing comment without newline
"#;
    assert_eq!(fmt(text), expected);
}

#[test]
fn blank_lines_collapse_and_leave_the_edges() {
    let text = "\n\n# head\n\n\n\nseeds = 1\n\n\ntrain t {\n\n  a = 1\n\n\n  b = 2\n\n}\n\n\n";
    assert_eq!(fmt(text), "# head\n\nseeds = 1\n\ntrain t {\n  a = 1\n\n  b = 2\n}\n");
}

#[test]
fn equals_and_end_of_line_comments_align_in_runs() {
    let text = "seeds = 0..3 # s\ndevice = auto # d\ndim shadow = 0..8\n\nmodel net = cnn()  # alone\n\n\
                train t {\n  model = net\n  epochs = 5 # five\n  augment = none    # none\n\n  batch = 1 # new run\n}\n";
    let expected = "seeds      = 0..3  # s\ndevice     = auto  # d\ndim shadow = 0..8\n\nmodel net = cnn()  # alone\n\n\
                    train t {\n  model   = net\n  epochs  = 5     # five\n  augment = none  # none\n\n  batch = 1  # new run\n}\n";
    assert_eq!(fmt(text), expected);
}

#[test]
fn a_multi_line_item_ends_its_run() {
    let text = "unlearn ft = finetune(original)\nunlearn ngp = neggrad_plus(original) {\n  lr = 1\n}\nunlearn a = b(original)\n";
    let expected =
        "unlearn ft  = finetune(original)\nunlearn ngp = neggrad_plus(original) {\n  lr = 1\n}\nunlearn a = b(original)\n";
    assert_eq!(fmt(text), expected);
}

#[test]
fn one_line_blocks_stay_one_line_when_short() {
    assert_eq!(
        fmt("unlearn ft = finetune(original)   {epochs=3;lr=0.05;}\n"),
        "unlearn ft = finetune(original) { epochs = 3; lr = 0.05 }\n"
    );
    // A block written over several lines stays so, even when it would fit on one.
    assert_eq!(fmt("train t {\n  a = 1 }\n"), "train t {\n  a = 1\n}\n");
    // Too long for one line: one field per line.
    let long = format!("unlearn ft = finetune(original) {{ epochs = 3; note = \"{}\" }}\n", "x".repeat(60));
    assert_eq!(
        fmt(&long),
        format!("unlearn ft = finetune(original) {{\n  epochs = 3\n  note   = \"{}\"\n}}\n", "x".repeat(60))
    );
    // Exactly 100 columns still fits.
    let fits = format!("train t {{ note = \"{}\" }}\n", "x".repeat(100 - 21));
    assert_eq!(fits.len(), 101);
    assert_eq!(fmt(&fits), fits);
    // Empty blocks.
    assert_eq!(fmt("train t {\n}\ntrain u { }\n"), "train t {}\ntrain u {}\n");
}

#[test]
fn semicolons_become_line_breaks() {
    assert_eq!(fmt("seeds = 0..3; device = cpu\n"), "seeds  = 0..3\ndevice = cpu\n");
    assert_eq!(fmt("train t {\n  a = 1; bb = 2\n}\n"), "train t {\n  a  = 1\n  bb = 2\n}\n");
}

#[test]
fn brackets_keep_the_authors_line_breaks() {
    // One line stays one line, however long.
    let long = format!("evaluate e {{\n  models = [{}]\n}}\n", vec!["model"; 30].join(", "));
    assert_eq!(fmt(&long), long);
    // Several lines: one level deeper, elements that shared a line still do, trailing commas.
    let text = "report r {\n  evaluate = [a.bench, b.bench,\n      c.bench, d.bench]\n  x = f(1,\n2)\n}\n";
    let expected =
        "report r {\n  evaluate = [\n    a.bench, b.bench,\n    c.bench, d.bench,\n  ]\n  x = f(\n    1,\n    2,\n  )\n}\n";
    assert_eq!(fmt(text), expected);
    // Spaces and trailing commas of one-line brackets.
    assert_eq!(fmt("x = f( a ,b : [ 1,2, ] , )\n"), "x = f(a, b: [1, 2])\n");
}

#[test]
fn literals_are_kept_as_written() {
    let text = "report r {\n  a = [0.10, 5e-4, 1.5E3, -3, 1e+2]\n  b = \"q \\\" \\\\ \\n \\t ∪\"\n  c = -2 .. 2\n}\n";
    let expected = "report r {\n  a = [0.10, 5e-4, 1.5E3, -3, 1e+2]\n  b = \"q \\\" \\\\ \\n \\t ∪\"\n  c = -2..2\n}\n";
    assert_eq!(fmt(text), expected);
}

#[test]
fn line_endings_become_line_feeds() {
    assert_eq!(
        fmt("seeds = 0..3\r\ntrain t {\r\n  epochs = 5 # five\r\n}\r\n"),
        "seeds = 0..3\ntrain t {\n  epochs = 5  # five\n}\n"
    );
}
