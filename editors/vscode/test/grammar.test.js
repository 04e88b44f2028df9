// Tokenises every `.munl` file under experiments/ with the extension's TextMate grammar (the
// same engine VS Code uses: vscode-textmate + vscode-oniguruma) and checks the scopes against a
// small independent lexer written from grammar/munl.pest. A new example file is picked up by
// walking the folder. Run with `npm test` (node's built-in test runner).
'use strict';

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXT_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(EXT_DIR, '..', '..');
const EXPERIMENTS_DIR = path.join(REPO_DIR, 'experiments');
const GRAMMAR_PATH = path.join(EXT_DIR, 'syntaxes', 'munl.tmLanguage.json');

// The declaration kinds of grammar/munl.pest's `kind` rule.
const KINDS = new Set(['dataset', 'model', 'train', 'unlearn', 'evaluate', 'report', 'dim']);

const S = {
  comment: 'comment.line.number-sign.munl',
  commentStart: 'punctuation.definition.comment.munl',
  kind: 'storage.type.munl',
  declName: 'entity.name.type.munl',
  importKw: 'keyword.control.import.munl',
  asKw: 'keyword.control.as.munl',
  alias: 'entity.name.namespace.munl',
  property: 'variable.other.property.munl',
  fn: 'entity.name.function.munl',
  param: 'variable.parameter.munl',
  string: 'string.quoted.double.munl',
  escape: 'constant.character.escape.munl',
  number: 'constant.numeric.munl',
  bool: 'constant.language.boolean.munl',
  word: 'constant.language.munl',
  variable: 'variable.other.munl',
  member: 'variable.other.member.munl',
  assign: 'keyword.operator.assignment.munl',
  range: 'keyword.operator.range.munl',
  colon: 'keyword.operator.key-value.munl',
  block: 'meta.block.munl',
};

// ---------------------------------------------------------------------------------------------
// The grammar, loaded the way VS Code loads it.

let grammar;

async function loadGrammar() {
  const wasmPath = path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm');
  const wasm = fs.readFileSync(wasmPath);
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.munl') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_PATH, 'utf8'), GRAMMAR_PATH);
    },
  });
  const g = await registry.loadGrammar('source.munl');
  assert.ok(g, 'the grammar source.munl loads');
  return g;
}

/** Tokenises `text` line by line; returns [{ line, tokens: [{ start, end, text, scopes }] }]. */
function tokenize(text) {
  let stack = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return {
      line,
      tokens: r.tokens.map((t) => ({
        start: t.startIndex,
        end: Math.min(t.endIndex, line.length),
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      })),
    };
  });
}

/** The scopes of the character at `col` of a tokenised line. */
function scopesAt(tl, col) {
  const t = tl.tokens.find((tok) => tok.start <= col && col < tok.end);
  assert.ok(t, `no token covers column ${col} of ${JSON.stringify(tl.line)}`);
  return t.scopes;
}

/** The token that starts at `col`. */
function tokenAt(tl, col) {
  return tl.tokens.find((tok) => tok.start === col);
}

// ---------------------------------------------------------------------------------------------
// An independent lexer, written from grammar/munl.pest: what each piece of a file *is*, so that
// the grammar's scopes can be checked against it for every file.

const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER_RE = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function lexMunl(text) {
  const lines = text.split(/\r?\n/);
  const lexemes = [];
  lines.forEach((line, ln) => {
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (c === ' ' || c === '\t') { i++; continue; }
      if (c === '#') { lexemes.push({ ln, start: i, end: line.length, type: 'comment' }); break; }
      if (c === '"') {
        let j = i + 1;
        let closed = false;
        while (j < line.length) {
          if (line[j] === '\\') { j += 2; continue; }
          if (line[j] === '"') { closed = true; j++; break; }
          j++;
        }
        lexemes.push({ ln, start: i, end: Math.min(j, line.length), type: 'string', closed });
        i = Math.min(j, line.length);
        continue;
      }
      NUMBER_RE.lastIndex = i;
      let m = NUMBER_RE.exec(line);
      if (m && !(c === '-' && m[0] === '-')) {
        lexemes.push({ ln, start: i, end: i + m[0].length, type: 'number' });
        i += m[0].length;
        continue;
      }
      IDENT_RE.lastIndex = i;
      m = IDENT_RE.exec(line);
      if (m) {
        lexemes.push({ ln, start: i, end: i + m[0].length, type: 'ident', text: m[0] });
        i += m[0].length;
        continue;
      }
      if (line.startsWith('..', i)) { lexemes.push({ ln, start: i, end: i + 2, type: '..' }); i += 2; continue; }
      lexemes.push({ ln, start: i, end: i + 1, type: c });
      i++;
    }
    lexemes.push({ ln, start: line.length, end: line.length, type: 'newline' });
  });
  return { lines, lexemes: classify(lexemes) };
}

/** Gives each identifier its role, following the rules of munl.pest. */
function classify(lexemes) {
  const stack = []; // open brackets
  let itemStart = true; // the next lexeme starts a top-level item (or a field in a block)
  const code = lexemes.filter((l) => l.type !== 'comment');
  for (let k = 0; k < code.length; k++) {
    const l = code[k];
    const next = code[k + 1] || { type: 'eof' };
    const prev = code[k - 1] || { type: 'sof' };
    const top = stack[stack.length - 1];
    const startsItem = itemStart;
    itemStart = false;
    switch (l.type) {
      case 'newline':
        // Line breaks separate items and fields, but not inside `(...)` and `[...]`.
        if (top === undefined || top === '{') itemStart = true;
        continue;
      case ';':
        itemStart = true;
        continue;
      case '{': case '(': case '[':
        stack.push(l.type);
        if (l.type === '{') itemStart = true;
        continue;
      case '}': case ')': case ']':
        stack.pop();
        continue;
      case 'ident':
        break;
      default:
        continue;
    }
    if (top === undefined && startsItem && l.text === 'import') l.role = 'import';
    else if (top === undefined && prev.role === 'import-path' && l.text === 'as') l.role = 'as';
    else if (top === undefined && prev.role === 'as') l.role = 'alias';
    else if (top === undefined && startsItem && KINDS.has(l.text) && next.type === 'ident') l.role = 'kind';
    else if (prev.role === 'kind') l.role = 'declName';
    else if (startsItem && next.type === '=') l.role = top === '{' ? 'field' : 'setting';
    else if (next.type === '(') l.role = 'function';
    else if (top === '(' && next.type === ':') l.role = 'param';
    else if (prev.type === '.') l.role = 'member';
    else if (l.text === 'true' || l.text === 'false') l.role = 'bool';
    else if ((l.text === 'auto' || l.text === 'none') && next.type !== '.' && next.type !== '(') l.role = 'word';
    else l.role = 'variable';
    if (l.role === 'import') {
      const s = code[k + 1];
      if (s && s.type === 'string') s.role = 'import-path';
    }
  }
  return lexemes;
}

// ---------------------------------------------------------------------------------------------
// The example files.

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile() && e.name.endsWith('.munl')) out.push(p);
  }
  return out.sort();
}

const EXAMPLES = walk(EXPERIMENTS_DIR);

before(async () => {
  grammar = await loadGrammar();
});

// ---------------------------------------------------------------------------------------------

describe('extension manifest', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(EXT_DIR, 'package.json'), 'utf8'));

  test('package.json contributes the munl language and its grammar', () => {
    assert.equal(pkg.name, 'munl');
    assert.equal(pkg.publisher, 'munl');
    assert.ok(pkg.engines && pkg.engines.vscode, 'engines.vscode is set');
    const lang = pkg.contributes.languages.find((l) => l.id === 'munl');
    assert.ok(lang, 'a language with id munl');
    assert.deepEqual(lang.extensions, ['.munl']);
    assert.ok(fs.existsSync(path.join(EXT_DIR, lang.configuration)), 'language configuration exists');
    const g = pkg.contributes.grammars.find((x) => x.language === 'munl');
    assert.equal(g.scopeName, 'source.munl');
    assert.equal(path.resolve(EXT_DIR, g.path), GRAMMAR_PATH);
    const raw = JSON.parse(fs.readFileSync(GRAMMAR_PATH, 'utf8'));
    assert.equal(raw.scopeName, 'source.munl');
  });

  test('language configuration: # comments, brackets, auto-closing quotes', () => {
    const pkgLang = pkg.contributes.languages.find((l) => l.id === 'munl');
    const conf = JSON.parse(fs.readFileSync(path.join(EXT_DIR, pkgLang.configuration), 'utf8'));
    assert.equal(conf.comments.lineComment, '#');
    assert.deepEqual(conf.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
    const pairs = conf.autoClosingPairs.map((p) => [p.open, p.close]);
    for (const p of [['{', '}'], ['[', ']'], ['(', ')'], ['"', '"']]) {
      assert.ok(pairs.some(([o, c]) => o === p[0] && c === p[1]), `auto-closes ${p[0]}`);
    }
  });
});

test('the example files are found, subfolders included', () => {
  const rel = EXAMPLES.map((p) => path.relative(EXPERIMENTS_DIR, p).split(path.sep).join('/'));
  assert.ok(rel.includes('quickstart.munl'), 'quickstart.munl');
  assert.ok(rel.some((r) => r.includes('/')), 'files in subfolders');
  assert.ok(rel.length >= 10, `found ${rel.length} files`);
});

for (const file of EXAMPLES) {
  const name = path.relative(REPO_DIR, file).split(path.sep).join('/');
  describe(name, () => {
    let lexed;
    let toks;
    before(() => {
      const text = fs.readFileSync(file, 'utf8');
      lexed = lexMunl(text);
      toks = tokenize(text);
    });

    const byRole = (role) => lexed.lexemes.filter((l) => l.role === role);
    const byType = (type) => lexed.lexemes.filter((l) => l.type === type);
    const where = (l) => `${name}:${l.ln + 1}:${l.start + 1} ${JSON.stringify(lexed.lines[l.ln].slice(l.start, l.end))}`;
    // Every character of the lexeme carries `scope`.
    const expectScope = (l, scope) => {
      for (let c = l.start; c < l.end; c++) {
        const sc = scopesAt(toks[l.ln], c);
        assert.ok(sc.includes(scope), `${where(l)} col ${c + 1}: expected ${scope}, got ${sc.join(' ')}`);
      }
    };
    // The lexeme is exactly one token, with `scope` as its innermost scope.
    const expectToken = (l, scope) => {
      const t = tokenAt(toks[l.ln], l.start);
      assert.ok(t && t.end === l.end, `${where(l)}: one token (got ${t && JSON.stringify(t.text)})`);
      assert.equal(t.scopes[t.scopes.length - 1], scope, `${where(l)}: ${t.scopes.join(' ')}`);
    };

    test('tokens cover every line and no scope is invalid', () => {
      toks.forEach((tl, ln) => {
        let at = 0;
        for (const t of tl.tokens) {
          assert.equal(t.start, at, `${name}:${ln + 1}: tokens are contiguous`);
          at = t.end;
          for (const s of t.scopes) {
            assert.ok(!s.startsWith('invalid'), `${name}:${ln + 1}:${t.start + 1} ${JSON.stringify(t.text)} is ${s}`);
          }
          assert.equal(t.scopes[0], 'source.munl');
        }
        assert.equal(at, tl.line.length, `${name}:${ln + 1}: tokens reach the end of the line`);
      });
    });

    test('every # comment is a comment to the end of its line, and nothing else is', () => {
      const comments = byType('comment');
      const commentLines = new Map(comments.map((l) => [l.ln, l.start]));
      for (const l of comments) {
        expectScope(l, S.comment);
        assert.ok(scopesAt(toks[l.ln], l.start).includes(S.commentStart), `${where(l)}: # is punctuation`);
      }
      toks.forEach((tl, ln) => {
        const from = commentLines.has(ln) ? commentLines.get(ln) : tl.line.length;
        for (let c = 0; c < from; c++) {
          assert.ok(!scopesAt(tl, c).includes(S.comment), `${name}:${ln + 1}:${c + 1} is not a comment`);
        }
      });
    });

    test('declaration kinds are keywords where a declaration starts, names elsewhere', () => {
      for (const l of byRole('kind')) {
        assert.ok(KINDS.has(l.text));
        expectToken(l, S.kind);
      }
      // `model = net` in a block, `evaluate = [...]` in a report: plain field names.
      for (const l of lexed.lexemes.filter((x) => x.type === 'ident' && KINDS.has(x.text) && x.role !== 'kind')) {
        for (let c = l.start; c < l.end; c++) {
          assert.ok(!scopesAt(toks[l.ln], c).includes(S.kind), `${where(l)} is not a keyword here`);
        }
      }
      for (const l of byRole('import')) expectToken(l, S.importKw);
      for (const l of byRole('as')) expectToken(l, S.asKw);
    });

    test('declared names and import aliases get the name scopes', () => {
      assert.ok(byRole('kind').length + byRole('import').length > 0, 'the file declares something');
      const names = byRole('declName');
      assert.equal(names.length, byRole('kind').length, 'one name per declaration');
      for (const l of names) expectToken(l, S.declName);
      for (const l of byRole('alias')) expectToken(l, S.alias);
    });

    test('quoted strings are strings, quotes included; escapes are escapes', () => {
      for (const l of byType('string')) {
        expectScope(l, S.string);
        assert.ok(scopesAt(toks[l.ln], l.start).includes('punctuation.definition.string.begin.munl'), where(l));
        if (l.closed) {
          assert.ok(scopesAt(toks[l.ln], l.end - 1).includes('punctuation.definition.string.end.munl'), where(l));
        }
        const body = lexed.lines[l.ln].slice(l.start, l.end);
        for (let i = body.indexOf('\\'); i >= 0; i = body.indexOf('\\', i + 2)) {
          assert.ok(scopesAt(toks[l.ln], l.start + i).includes(S.escape), `${where(l)}: escape at ${i}`);
        }
      }
      // Outside strings (and comments), nothing is a string.
      const inString = new Set();
      for (const l of byType('string').concat(byType('comment'))) {
        for (let c = l.start; c < l.end; c++) inString.add(`${l.ln}:${c}`);
      }
      toks.forEach((tl, ln) => {
        for (let c = 0; c < tl.line.length; c++) {
          if (!inString.has(`${ln}:${c}`)) {
            assert.ok(!scopesAt(tl, c).includes(S.string), `${name}:${ln + 1}:${c + 1} is not in a string`);
          }
        }
      });
    });

    test('numbers (ranges, decimals, exponents) are numeric tokens; .. is the range operator', () => {
      for (const l of byType('number')) expectToken(l, S.number);
      for (const l of byType('..')) expectToken(l, S.range);
    });

    test('field and setting names before = are properties; = is the assignment operator', () => {
      for (const l of byRole('field')) {
        expectToken(l, S.property);
        assert.ok(scopesAt(toks[l.ln], l.start).includes(S.block), `${where(l)} is in a block`);
      }
      for (const l of byRole('setting')) {
        expectToken(l, S.property);
        assert.ok(!scopesAt(toks[l.ln], l.start).includes(S.block), `${where(l)} is top-level`);
      }
      for (const l of byType('=')) expectToken(l, S.assign);
    });

    test('calls name a function; named arguments are parameters', () => {
      for (const l of byRole('function')) expectToken(l, S.fn);
      for (const l of byRole('param')) expectToken(l, S.param);
      for (const l of byType(':')) expectToken(l, S.colon);
    });

    test('references, members and constants get their scopes', () => {
      for (const l of byRole('variable')) expectToken(l, S.variable);
      for (const l of byRole('member')) expectToken(l, S.member);
      for (const l of byRole('bool')) expectToken(l, S.bool);
      for (const l of byRole('word')) expectToken(l, S.word);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Exact tokens of experiments/quickstart.munl: [text, innermost scope] for the non-blank tokens
// of a line, so that any change to the grammar's output shows up here.

/** A line's text with every run of whitespace as one space, trimmed. */
const squeeze = (text) => text.replace(/\s+/g, ' ').trim();

describe('quickstart.munl, token by token', () => {
  let toks;
  before(() => {
    toks = tokenize(fs.readFileSync(path.join(EXPERIMENTS_DIR, 'quickstart.munl'), 'utf8'));
  });
  // Lines are found by their text with runs of spaces as one, so that `munl fmt`'s alignment
  // does not matter.
  const line = (text) => {
    const tl = toks.find((t) => squeeze(t.line) === squeeze(text));
    assert.ok(tl, `quickstart.munl has the line ${JSON.stringify(text)}`);
    return tl.tokens.filter((t) => t.text.trim() !== '').map((t) => [t.text, t.scopes[t.scopes.length - 1]]);
  };

  test('a header comment', () => {
    const tl = toks[0];
    assert.ok(tl.line.startsWith('# munl quickstart'));
    assert.deepEqual(tl.tokens.map((t) => [t.text, t.scopes.slice(1)]), [
      ['#', [S.comment, S.commentStart]],
      [tl.line.slice(1), [S.comment]],
    ]);
  });

  test('seeds = 0..2', () => {
    assert.deepEqual(line('seeds  = 0..2'), [
      ['seeds', S.property], ['=', S.assign], ['0', S.number], ['..', S.range], ['2', S.number],
    ]);
  });

  test('device = auto', () => {
    assert.deepEqual(line('device = auto'), [['device', S.property], ['=', S.assign], ['auto', S.word]]);
  });

  test('dataset mnist {', () => {
    assert.deepEqual(line('dataset mnist {'), [
      ['dataset', S.kind], ['mnist', S.declName], ['{', 'punctuation.section.block.begin.munl'],
    ]);
  });

  test('a field with a call, a string and a trailing comment', () => {
    const tl = toks.find((t) => t.line.startsWith('  source = mnist("mnist")'));
    const toks2 = tl.tokens.filter((t) => t.text.trim() !== '');
    assert.deepEqual(toks2.map((t) => [t.text, t.scopes.slice(1)]), [
      ['source', [S.block, S.property]],
      ['=', [S.block, S.assign]],
      ['mnist', [S.block, 'meta.function-call.munl', S.fn]],
      ['(', [S.block, 'meta.function-call.munl', 'punctuation.section.arguments.begin.munl']],
      ['"', [S.block, 'meta.function-call.munl', S.string, 'punctuation.definition.string.begin.munl']],
      ['mnist', [S.block, 'meta.function-call.munl', S.string]],
      ['"', [S.block, 'meta.function-call.munl', S.string, 'punctuation.definition.string.end.munl']],
      [')', [S.block, 'meta.function-call.munl', 'punctuation.section.arguments.end.munl']],
      ['#', [S.block, S.comment, S.commentStart]],
      [' $MUNL_DATA/mnist, fetched if missing', [S.block, S.comment]],
    ]);
  });

  test('named arguments with decimals and an exponent', () => {
    assert.deepEqual(line('  optim  = sgd(lr: 0.05, momentum: 0.9, weight_decay: 5e-4)'), [
      ['optim', S.property], ['=', S.assign], ['sgd', S.fn], ['(', 'punctuation.section.arguments.begin.munl'],
      ['lr', S.param], [':', S.colon], ['0.05', S.number], [',', 'punctuation.separator.comma.munl'],
      ['momentum', S.param], [':', S.colon], ['0.9', S.number], [',', 'punctuation.separator.comma.munl'],
      ['weight_decay', S.param], [':', S.colon], ['5e-4', S.number],
      [')', 'punctuation.section.arguments.end.munl'],
    ]);
  });

  test('a field named like a declaration kind is a field', () => {
    assert.deepEqual(line('  model  = net'), [['model', S.property], ['=', S.assign], ['net', S.variable]]);
  });

  test('augment = none', () => {
    const l = line('  augment = none                                  # no flips: digits are not mirror-symmetric');
    assert.deepEqual(l.slice(0, 3), [['augment', S.property], ['=', S.assign], ['none', S.word]]);
  });

  test('inheritance with a one-line block and a member path', () => {
    assert.deepEqual(line('train retrained = original { data = mnist.retain }'), [
      ['train', S.kind], ['retrained', S.declName], ['=', S.assign], ['original', S.variable],
      ['{', 'punctuation.section.block.begin.munl'], ['data', S.property], ['=', S.assign],
      ['mnist', S.variable], ['.', 'punctuation.accessor.munl'], ['retain', S.member],
      ['}', 'punctuation.section.block.end.munl'],
    ]);
  });

  test('an unlearn declaration with ;-separated fields', () => {
    assert.deepEqual(line('unlearn ft  = finetune(original)        { epochs = 3; lr = 0.05; batch = 128 }'), [
      ['unlearn', S.kind], ['ft', S.declName], ['=', S.assign], ['finetune', S.fn],
      ['(', 'punctuation.section.arguments.begin.munl'], ['original', S.variable],
      [')', 'punctuation.section.arguments.end.munl'], ['{', 'punctuation.section.block.begin.munl'],
      ['epochs', S.property], ['=', S.assign], ['3', S.number], [';', 'punctuation.separator.munl'],
      ['lr', S.property], ['=', S.assign], ['0.05', S.number], [';', 'punctuation.separator.munl'],
      ['batch', S.property], ['=', S.assign], ['128', S.number], ['}', 'punctuation.section.block.end.munl'],
    ]);
  });

  test('a list of references', () => {
    assert.deepEqual(line('  models    = [original, retrained, ft, ga, ngp]'), [
      ['models', S.property], ['=', S.assign], ['[', 'punctuation.section.list.begin.munl'],
      ['original', S.variable], [',', 'punctuation.separator.comma.munl'],
      ['retrained', S.variable], [',', 'punctuation.separator.comma.munl'],
      ['ft', S.variable], [',', 'punctuation.separator.comma.munl'],
      ['ga', S.variable], [',', 'punctuation.separator.comma.munl'],
      ['ngp', S.variable], [']', 'punctuation.section.list.end.munl'],
    ]);
  });

  test('report fields name files', () => {
    assert.deepEqual(line('report bench {'), [
      ['report', S.kind], ['bench', S.declName], ['{', 'punctuation.section.block.begin.munl'],
    ]);
    assert.deepEqual(line('  csv      = "results/quickstart.csv"'), [
      ['csv', S.property], ['=', S.assign], ['"', 'punctuation.definition.string.begin.munl'],
      ['results/quickstart.csv', S.string], ['"', 'punctuation.definition.string.end.munl'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Other example files: the forms quickstart.munl does not have.

describe('other examples, token by token', () => {
  const lineOf = (rel, text) => {
    const toks = tokenize(fs.readFileSync(path.join(EXPERIMENTS_DIR, rel), 'utf8'));
    const tl = toks.find((t) => squeeze(t.line) === squeeze(text));
    assert.ok(tl, `${rel} has the line ${JSON.stringify(text)}`);
    return tl.tokens.filter((t) => t.text.trim() !== '').map((t) => [t.text, t.scopes[t.scopes.length - 1]]);
  };

  test('import "x.munl" as alias (deepunlearn/paper.munl)', () => {
    assert.deepEqual(lineOf('deepunlearn/paper.munl', 'import "mnist_resnet18.munl" as mnist_resnet18'), [
      ['import', S.importKw], ['"', 'punctuation.definition.string.begin.munl'],
      ['mnist_resnet18.munl', S.string], ['"', 'punctuation.definition.string.end.munl'],
      ['as', S.asKw], ['mnist_resnet18', S.alias],
    ]);
  });

  test('a multi-line list of imported names (deepunlearn/paper.munl)', () => {
    assert.deepEqual(lineOf('deepunlearn/paper.munl', '    cifar10_resnet18.bench, cifar10_vit11m.bench,'), [
      ['cifar10_resnet18', S.variable], ['.', 'punctuation.accessor.munl'], ['bench', S.member],
      [',', 'punctuation.separator.comma.munl'],
      ['cifar10_vit11m', S.variable], ['.', 'punctuation.accessor.munl'], ['bench', S.member],
      [',', 'punctuation.separator.comma.munl'],
    ]);
    assert.deepEqual(lineOf('deepunlearn/paper.munl', '  evaluate = ['), [
      ['evaluate', S.property], ['=', S.assign], ['[', 'punctuation.section.list.begin.munl'],
    ]);
  });

  test('dim with a list of decimals (forget_sweep.munl)', () => {
    assert.deepEqual(lineOf('forget_sweep.munl', 'dim frac = [0.01, 0.1, 0.5]'), [
      ['dim', S.kind], ['frac', S.declName], ['=', S.assign], ['[', 'punctuation.section.list.begin.munl'],
      ['0.01', S.number], [',', 'punctuation.separator.comma.munl'], ['0.1', S.number],
      [',', 'punctuation.separator.comma.munl'], ['0.5', S.number], [']', 'punctuation.section.list.end.munl'],
    ]);
  });

  test('a Python op applied to its input (byo/byo.munl)', () => {
    const l = lineOf('byo/byo.munl', 'unlearn ft_py = python("methods/finetune.py")(original)  { epochs = 3; lr = 0.05; batch = 128 }');
    assert.deepEqual(l.slice(0, 10), [
      ['unlearn', S.kind], ['ft_py', S.declName], ['=', S.assign], ['python', S.fn],
      ['(', 'punctuation.section.arguments.begin.munl'], ['"', 'punctuation.definition.string.begin.munl'],
      ['methods/finetune.py', S.string], ['"', 'punctuation.definition.string.end.munl'],
      [')', 'punctuation.section.arguments.end.munl'], ['(', 'punctuation.section.arguments.begin.munl'],
    ]);
    assert.deepEqual(l.slice(10, 12), [['original', S.variable], [')', 'punctuation.section.arguments.end.munl']]);
  });

  test('a range as a named argument (ulira_demo.munl)', () => {
    const l = lineOf('ulira_demo.munl', 'unlearn ft = finetune(original) { tune = search(trials: 6, seeds: [0], shadow: 0..2, draw: 0) }');
    const i = l.findIndex(([t]) => t === 'shadow');
    assert.deepEqual(l.slice(i, i + 5), [['shadow', S.param], [':', S.colon], ['0', S.number], ['..', S.range], ['2', S.number]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Forms the examples do not use (yet), written from munl.pest and language.md §2.

describe('snippets', () => {
  const scopesOf = (text) => tokenize(text).map((tl) =>
    tl.tokens.filter((t) => t.text.trim() !== '').map((t) => [t.text, t.scopes[t.scopes.length - 1]]));

  test('booleans, negative numbers, 1.5E3 and exponents with +', () => {
    assert.deepEqual(scopesOf('x = [true, false, -3, 1.5E3, 2e+2, trueish]')[0], [
      ['x', S.property], ['=', S.assign], ['[', 'punctuation.section.list.begin.munl'],
      ['true', S.bool], [',', 'punctuation.separator.comma.munl'], ['false', S.bool],
      [',', 'punctuation.separator.comma.munl'], ['-3', S.number], [',', 'punctuation.separator.comma.munl'],
      ['1.5E3', S.number], [',', 'punctuation.separator.comma.munl'], ['2e+2', S.number],
      [',', 'punctuation.separator.comma.munl'], ['trueish', S.variable], [']', 'punctuation.section.list.end.munl'],
    ]);
  });

  test('string escapes; an unknown escape is invalid', () => {
    assert.deepEqual(scopesOf('x = "a\\"b\\\\c\\n\\t"')[0], [
      ['x', S.property], ['=', S.assign], ['"', 'punctuation.definition.string.begin.munl'],
      ['a', S.string], ['\\"', S.escape], ['b', S.string], ['\\\\', S.escape], ['c', S.string],
      ['\\n', S.escape], ['\\t', S.escape], ['"', 'punctuation.definition.string.end.munl'],
    ]);
    assert.deepEqual(scopesOf('x = "a\\qb"')[0][4], ['\\q', 'invalid.illegal.unknown-escape.munl']);
  });

  test('a # inside a string is not a comment', () => {
    assert.deepEqual(scopesOf('csv = "a#b.csv" # c')[0], [
      ['csv', S.property], ['=', S.assign], ['"', 'punctuation.definition.string.begin.munl'],
      ['a#b.csv', S.string], ['"', 'punctuation.definition.string.end.munl'],
      ['#', S.commentStart], [' c', S.comment],
    ]);
  });

  test('an unterminated string stops at the end of its line', () => {
    const [a, b] = scopesOf('x = "abc\ny = 1');
    assert.deepEqual(a.slice(2), [['"', 'punctuation.definition.string.begin.munl'], ['abc', S.string]]);
    assert.deepEqual(b, [['y', S.property], ['=', S.assign], ['1', S.number]]);
  });

  test('top-level `model = 3` is a setting; `model net` a declaration; ; separates items', () => {
    assert.deepEqual(scopesOf('model = 3; model net = cnn()')[0], [
      ['model', S.property], ['=', S.assign], ['3', S.number], [';', 'punctuation.separator.munl'],
      ['model', S.kind], ['net', S.declName], ['=', S.assign], ['cnn', S.fn],
      ['(', 'punctuation.section.arguments.begin.munl'], [')', 'punctuation.section.arguments.end.munl'],
    ]);
  });

  test('a call spanning lines, with a comment inside', () => {
    const ls = scopesOf('x = sgd(\n  lr: 0.1,   # the rate\n  momentum: 0.9,\n)\ny = 2');
    assert.deepEqual(ls[1], [['lr', S.param], [':', S.colon], ['0.1', S.number],
      [',', 'punctuation.separator.comma.munl'], ['#', S.commentStart], [' the rate', S.comment]]);
    assert.deepEqual(ls[3], [[')', 'punctuation.section.arguments.end.munl']]);
    assert.deepEqual(ls[4], [['y', S.property], ['=', S.assign], ['2', S.number]]);
  });

  test('every declaration kind, dim included', () => {
    for (const k of KINDS) {
      assert.deepEqual(scopesOf(`${k} thing_1 = a.b`)[0], [
        [k, S.kind], ['thing_1', S.declName], ['=', S.assign], ['a', S.variable],
        ['.', 'punctuation.accessor.munl'], ['b', S.member],
      ]);
    }
  });

  test('a missing } does not swallow the next declaration', () => {
    const ls = scopesOf('train a {\n  epochs = 1\nmodel net = cnn()');
    assert.deepEqual(ls[2].slice(0, 2), [['model', S.kind], ['net', S.declName]]);
  });

  test('stray closing brackets and unknown characters are invalid', () => {
    const ls = scopesOf('}\nx = 1 @');
    assert.deepEqual(ls[0], [['}', 'invalid.illegal.character.munl']]);
    assert.deepEqual(ls[1][3], ['@', 'invalid.illegal.character.munl']);
  });
});
