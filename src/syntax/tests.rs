//! Snapshot tests of the syntax phase: trees as S-expressions, errors as users see them.

use std::fmt::Write as _;

use super::ast::{Arg, Expr, ExprKind, File, Ident, Item};
use crate::diag::render_plain;
use crate::source::Source;

/// The complete example of language.md §1, verbatim.
const EXAMPLE: &str = r#"# Forget a random 10% of MNIST and compare unlearning methods with retraining,
# over three model seeds.

seeds  = 0..3                     # every model-dependent node runs once per seed
device = auto                     # cuda if available, else cpu

dataset mnist {
  source = mnist("mnist")         # $MUNL_DATA/mnist: the official IDX files, fetched if missing
  split  = random(val: 0.15, forget: 0.10, seed: 123)
}

model net = resnet18()            # classes come from the dataset it is trained on

train original {
  model  = net
  data   = mnist.train            # retain ∪ forget
  epochs = 50
  batch  = 256
  optim  = sgd(lr: 0.1, momentum: 0.9, weight_decay: 5e-4)
  sched  = cosine()
}

train retrained = original {      # every field of `original`, then these overrides
  data = mnist.retain
}

unlearn ft  = finetune(original) { epochs = 5; lr = 0.01 }
unlearn msg = msg(original)                         # the method's reference defaults
unlearn ngp = neggrad_plus(original) {
  lr   = log_uniform(1e-5, 1e-1)                    # searched field
  tune = search(trials: 100, seeds: [0, 1, 2])      # reference objective and sampler
}

evaluate bench {
  models    = [original, retrained, ft, msg, ngp]
  reference = retrained
  metrics   = [accuracy, mia, indiscernibility, rte]
}

report bench {
  markdown = "results/quickstart.md"
  csv      = "results/quickstart.csv"
}
"#;

fn source(text: &str) -> Source {
    Source::new("test.munl", text)
}

/// Parses `text`, which must succeed, and prints the tree.
fn tree(text: &str) -> String {
    match super::parse(&source(text)) {
        Ok(file) => sexp(&file),
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

/// Parses `text`, which must fail, and renders every error as the CLI would.
fn errors(text: &str) -> String {
    let source = source(text);
    let errors = super::parse(&source).expect_err("the input should not parse");
    errors.iter().map(|e| render_plain(e, &source)).collect::<Vec<_>>().join("\n")
}

/// One item per line, fields indented below their declaration.
fn sexp(file: &File) -> String {
    let mut out = String::new();
    for item in &file.items {
        match item {
            Item::Import(i) => writeln!(out, "(import {:?} as {})", i.path, i.alias.name),
            Item::Setting(s) => writeln!(out, "(setting {} {})", s.name.name, expr(&s.value)),
            Item::Decl(d) => {
                write!(out, "({} {}", d.kind.keyword(), d.name.name).unwrap();
                if let Some(head) = &d.head {
                    write!(out, " = {}", expr(head)).unwrap();
                }
                for field in &d.fields {
                    write!(out, "\n  ({} {})", field.name.name, expr(&field.value)).unwrap();
                }
                writeln!(out, ")")
            }
        }
        .unwrap();
    }
    out
}

fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}f"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Range { start, end } => format!("(range {start} {end})"),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(expr).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Call { callee, args } => {
            let mut out = format!("(call {}", callee.name);
            for arg in args {
                out.push(' ');
                out.push_str(&argument(arg));
            }
            out.push(')');
            out
        }
        ExprKind::Applied { head, args } => {
            let mut out = format!("(apply {}", expr(head));
            for arg in args {
                out.push(' ');
                out.push_str(&argument(arg));
            }
            out.push(')');
            out
        }
        ExprKind::Path(parts) => parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("."),
    }
}

fn argument(arg: &Arg) -> String {
    match &arg.name {
        Some(name) => format!("({}: {})", name.name, expr(&arg.value)),
        None => expr(&arg.value),
    }
}

#[test]
fn complete_example() {
    insta::assert_snapshot!(tree(EXAMPLE));
}

#[test]
fn one_line_block() {
    insta::assert_snapshot!(tree(
        "unlearn ft = finetune(original) { epochs = 5; lr = 0.01 }\n\
         train t { }\n\
         train u {epochs = 1;}\n\
         seeds = 0..3; device = cpu\n"
    ));
}

#[test]
fn multi_line_calls_and_lists() {
    insta::assert_snapshot!(tree(
        r#"unlearn ngp = neggrad_plus(
    original,
) {
  tune = search(
    trials: 100,
    seeds: [
      0,
      1,
      2,
    ],
  )
  metrics = [accuracy, mia,]
  empty = []
  none = f()
}
"#
    ));
}

#[test]
fn comments_everywhere() {
    insta::assert_snapshot!(tree(
        r#"# leading comment
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
# trailing comment without newline"#
    ));
}

#[test]
fn keywords_as_names() {
    insta::assert_snapshot!(tree(
        "train original {\n  model = net\n  dataset = d\n  report = true\n  train = false\n}\n\
         model = 3\n\
         models = [model, dataset.train]\n\
         evaluate e = report(model: train, dataset: x.model)\n"
    ));
}

#[test]
fn literals() {
    insta::assert_snapshot!(tree(
        r#"report r {
  ints = [0, 256, -3, 9223372036854775807, -9223372036854775808]
  floats = [0.1, 5e-4, 1.5E3, -2.0, 1e+2, 1e10]
  strings = ["", "plain", "quote \" backslash \\ newline \n tab \t", "ünïcode ∪"]
  bools = [true, false, trueish]
  ranges = [0..3, -2 .. 2]
}
"#
    ));
}

#[test]
fn spans_point_at_the_source() {
    let text = "seeds = 0..3\ntrain t = base { lr = f(1, k: \"v\") }\n";
    let file = super::parse(&source(text)).unwrap();
    let at = |span: crate::span::Span| &text[span.start..span.end];
    let Item::Setting(setting) = &file.items[0] else { panic!("a setting") };
    assert_eq!(at(setting.span), "seeds = 0..3");
    assert_eq!(at(setting.value.span), "0..3");
    let Item::Decl(decl) = &file.items[1] else { panic!("a declaration") };
    assert_eq!(at(decl.span), "train t = base { lr = f(1, k: \"v\") }");
    assert_eq!(at(decl.kind_span), "train");
    assert_eq!(at(decl.name.span), "t");
    assert_eq!(at(decl.head.as_ref().unwrap().span), "base");
    let field = &decl.fields[0];
    assert_eq!(at(field.span), "lr = f(1, k: \"v\")");
    let ExprKind::Call { callee, args } = &field.value.kind else { panic!("a call") };
    let Ident { name, span } = callee;
    assert_eq!((name.as_str(), at(*span)), ("f", "f"));
    assert_eq!(at(args[1].span), "k: \"v\"");
    assert_eq!(at(args[1].value.span), "\"v\"");
}

#[test]
fn error_missing_eq() {
    insta::assert_snapshot!(errors("dataset mnist {\n  source mnist(\"mnist\")\n}\n"));
}

#[test]
fn error_missing_value() {
    insta::assert_snapshot!(errors("train t {\n  epochs =\n}\n"));
}

#[test]
fn error_two_fields_on_one_line() {
    insta::assert_snapshot!(errors("unlearn ft = finetune(original) { epochs = 5, lr = 0.01 }\n"));
}

#[test]
fn error_missing_comma() {
    insta::assert_snapshot!(errors("train t {\n  optim = sgd(lr: 0.1 momentum: 0.9)\n}\n"));
}

#[test]
fn error_unterminated_string() {
    insta::assert_snapshot!(errors("dataset mnist {\n  source = mnist(\"mnist)\n  split = random(val: 0.1)\n}\n"));
}

#[test]
fn error_unterminated_string_in_valid_structure() {
    insta::assert_snapshot!(errors("report r {\n  markdown = \"a.md\n  csv = \"b.csv\n}\n"));
}

#[test]
fn error_bad_escapes_all_reported() {
    insta::assert_snapshot!(errors("report r {\n  markdown = \"C:\\results\\q.md\"\n  csv = \"ok \\\" \\x\"\n}\n"));
}

#[test]
fn error_unknown_top_level_token() {
    insta::assert_snapshot!(errors("seeds = 0..3\n@import \"x.munl\"\n"));
}

#[test]
fn error_misspelt_kind() {
    insta::assert_snapshot!(errors("modle net = resnet18()\n"));
}

#[test]
fn error_unclosed_brace() {
    insta::assert_snapshot!(errors("train original {\n  model  = net\n  epochs = 50\n"));
}

#[test]
fn error_unclosed_paren() {
    insta::assert_snapshot!(errors("train t {\n  optim = sgd(lr: 0.1, # comment )\n"));
}

#[test]
fn error_positional_after_named() {
    insta::assert_snapshot!(errors("unlearn u = finetune(lr: 0.1, original, 3)\n"));
}

#[test]
fn error_integer_overflow_and_friends() {
    insta::assert_snapshot!(errors(
        "report r {\n  a = 9223372036854775808\n  b = 0..99999999999999999999\n  c = 1e999\n  d = 0.5..3\n}\n"
    ));
}

#[test]
fn error_two_items_on_one_line() {
    insta::assert_snapshot!(errors("seeds = 0..3 device = auto\n"));
}

#[test]
fn error_missing_head_eq() {
    insta::assert_snapshot!(errors("model net resnet18()\n"));
}

#[test]
fn error_stray_token_in_block() {
    insta::assert_snapshot!(errors("train t {\n  epochs = 5\n  ) \n}\n"));
}

#[test]
fn error_dangling_dot() {
    insta::assert_snapshot!(errors("train t {\n  data = mnist.\n}\n"));
}

#[test]
fn crlf_line_endings() {
    let text = "seeds = 0..3\r\ntrain t {\r\n  epochs = 5 # five\r\n}\r\n";
    assert_eq!(tree(text), tree(&text.replace("\r\n", "\n")));
}

#[test]
fn imports() {
    insta::assert_snapshot!(tree(
        "import \"mnist_resnet18.munl\" as mr\nimport \"../other/c.munl\" as c\nimport = 3\nreport paper { evaluate = [mr.bench, c.bench] }\n"
    ));
}

#[test]
fn error_import_without_alias() {
    insta::assert_snapshot!(errors("import \"mnist_resnet18.munl\"\nseeds = 0..2\n"));
}

#[test]
fn error_import_without_path() {
    insta::assert_snapshot!(errors("import mr\n"));
}
