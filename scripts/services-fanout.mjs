#!/usr/bin/env node
/**
 * How far the `Services` bag (core/services.ts) fans out through the product: which files receive the
 * whole bag, and how many of its members each file's deps actually use.
 *
 *   node scripts/services-fanout.mjs          # summary, then one line per file
 *   node scripts/services-fanout.mjs --sites  # also every parameter/property that holds a slice of the bag
 *
 * Uses the TypeScript compiler API (the project's own `typescript`, no other dependency). A "site" is a
 * parameter, property or variable in a product file whose type is a slice of Services: every member it
 * has is a Services member of the same type (`Services` itself, `Pick<Services, …>`, or an interface
 * like `EndSessionDeps`). A site's "used" members are those read from it directly (`deps.db`,
 * `const { db } = deps`) plus, where it is passed on (an argument, an object property, a spread), what
 * the receiving site uses in turn, to a fixed point. A value that escapes any other way (returned,
 * assigned) counts as using every member its type declares.
 */
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
const PRODUCT = ['broker', 'workers', 'pool-controller', 'proxy', 'core', 'cli', 'stack'];
/**
 * Composition roots: they open (or are handed) every client and wire the processes together, so they
 * keep the whole bag. Every other module names the few members it uses.
 */
const ROOTS = new Set([
  'core/services.ts',
  'core/process/run-process.ts',
  'stack/stack.ts',
  'broker/main.ts',
  'broker/app.ts',
  'workers/main.ts',
  'workers/workers.ts',
  'pool-controller/main.ts',
  'pool-controller/controller.ts',
  'proxy/main.ts',
]);
const showSites = process.argv.includes('--sites');

const rel = (fileName) => path.relative(ROOT, fileName).split(path.sep).join('/');
const isProduct = (fileName) => {
  const r = rel(fileName);
  return PRODUCT.some((dir) => r.startsWith(`${dir}/`)) && !r.endsWith('.d.ts');
};

const configPath = path.join(ROOT, 'tsconfig.json');
const parsed = ts.parseJsonConfigFileContent(
  ts.readConfigFile(configPath, ts.sys.readFile).config,
  ts.sys,
  ROOT,
);
const program = ts.createProgram(parsed.fileNames.filter(isProduct), parsed.options);
const checker = program.getTypeChecker();
const productFiles = program.getSourceFiles().filter((sf) => isProduct(sf.fileName));

// The bag's members and their types.
const servicesFile = productFiles.find((sf) => rel(sf.fileName) === 'core/services.ts');
const servicesDecl = servicesFile?.statements.find(
  (s) => ts.isInterfaceDeclaration(s) && s.name.text === 'Services',
);
if (!servicesDecl) throw new Error('interface Services not found in core/services.ts');
const servicesType = checker.getTypeAtLocation(servicesDecl.name);
const members = new Map(
  checker.getPropertiesOfType(servicesType).map((p) => [p.name, checker.getTypeOfSymbol(p)]),
);

/** The member names of `type` when it is a slice of Services, else undefined. */
function sliceOf(type) {
  if (!type) return undefined;
  const t = checker.getNonNullableType(type);
  const objectLike = t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection);
  if (t.isUnion() || !objectLike || t.getCallSignatures().length > 0) return undefined;
  const props = checker.getPropertiesOfType(t);
  if (props.length === 0) return undefined;
  for (const p of props) {
    const memberType = members.get(p.name);
    if (!memberType || !checker.isTypeAssignableTo(memberType, checker.getTypeOfSymbol(p))) return undefined;
  }
  // `{ close(): Promise<void> }` is any closable handle, not a slice of the bag.
  if (props.every((p) => p.name === 'close')) return undefined;
  return new Set(props.map((p) => p.name));
}

/** site symbol -> { file, name, line, declared, used, edges, escapes } */
const sites = new Map();
function addSite(symbol, node, nameNode) {
  if (!symbol || sites.has(symbol)) return sites.get(symbol);
  const declared = sliceOf(checker.getTypeOfSymbolAtLocation(symbol, nameNode));
  if (!declared) return undefined;
  const sf = node.getSourceFile();
  const site = {
    file: rel(sf.fileName),
    name: nameNode.getText(),
    line: sf.getLineAndCharacterOfPosition(nameNode.getStart()).line + 1,
    declared,
    used: new Set(),
    edges: new Set(),
    escapes: [],
  };
  sites.set(symbol, site);
  return site;
}

// 1. Every declaration that holds a slice of the bag.
for (const sf of productFiles) {
  const visit = (node) => {
    if (ts.isParameter(node) && ts.isIdentifier(node.name)) {
      const symbols = ts.isParameterPropertyDeclaration(node, node.parent)
        ? checker.getSymbolsOfParameterPropertyDeclaration(node, node.name.text)
        : [checker.getSymbolAtLocation(node.name)];
      const first = addSite(symbols[0], node, node.name);
      // A parameter property is two symbols (the parameter and `this.x`): one site.
      for (const s of symbols.slice(1)) if (first && s) sites.set(s, first);
    } else if (
      (ts.isPropertySignature(node) ||
        ts.isPropertyDeclaration(node) ||
        ts.isVariableDeclaration(node) ||
        ts.isBindingElement(node)) &&
      ts.isIdentifier(node.name)
    ) {
      addSite(checker.getSymbolAtLocation(node.name), node, node.name);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

const skipWrappers = (node) => {
  let n = node;
  while (
    ts.isParenthesizedExpression(n.parent) ||
    ts.isAsExpression(n.parent) ||
    ts.isNonNullExpression(n.parent) ||
    ts.isSatisfiesExpression(n.parent)
  )
    n = n.parent;
  return n;
};

/** The receiving end of a value passed on: a site (an edge) or a type's slice (members used). */
function passTo(site, targetSymbol, targetType, what) {
  const target = targetSymbol && sites.get(targetSymbol);
  if (target) return void site.edges.add(target);
  const slice = sliceOf(targetType);
  if (slice)
    for (const m of slice)
      if (site.declared.has(m)) site.used.add(m);
      else site.escapes.push(what);
}

/** Records what one reference to a site does with the value. */
function use(site, ref) {
  // `this.services` / `deps.services`: the value is the whole property access.
  let expr = ts.isPropertyAccessExpression(ref.parent) && ref.parent.name === ref ? ref.parent : ref;
  if (ts.isShorthandPropertyAssignment(ref.parent)) expr = ref.parent;
  else expr = skipWrappers(expr);
  const p = expr.parent;
  if (ts.isPropertyAccessExpression(p) && p.expression === expr) return void site.used.add(p.name.text);
  if (ts.isElementAccessExpression(p) && ts.isStringLiteral(p.argumentExpression))
    return void site.used.add(p.argumentExpression.text);
  if (ts.isVariableDeclaration(p) && p.initializer === expr) {
    if (ts.isIdentifier(p.name)) return passTo(site, checker.getSymbolAtLocation(p.name), undefined, 'alias');
    if (ts.isObjectBindingPattern(p.name)) {
      for (const el of p.name.elements) {
        if (el.dotDotDotToken) passTo(site, checker.getSymbolAtLocation(el.name), undefined, '...rest');
        else site.used.add((el.propertyName ?? el.name).getText());
      }
      return;
    }
  }
  if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.arguments?.includes(expr)) {
    const i = p.arguments.indexOf(expr);
    const params = checker.getResolvedSignature(p)?.getDeclaration()?.parameters ?? [];
    const param = params[Math.min(i, params.length - 1)];
    if (param && ts.isObjectBindingPattern(param.name)) {
      for (const el of param.name.elements) site.used.add((el.propertyName ?? el.name).getText());
      return;
    }
    const symbols =
      param && ts.isParameterPropertyDeclaration(param, param.parent)
        ? checker.getSymbolsOfParameterPropertyDeclaration(param, param.name.getText())
        : [param && checker.getSymbolAtLocation(param.name)];
    return passTo(
      site,
      symbols[0],
      param && checker.getTypeAtLocation(param),
      `argument of ${p.expression.getText()}`,
    );
  }
  if (ts.isShorthandPropertyAssignment(expr) || (ts.isPropertyAssignment(p) && p.initializer === expr)) {
    const prop = ts.isShorthandPropertyAssignment(expr) ? expr : p;
    const contextual = checker.getContextualType(prop.parent);
    const target = contextual && checker.getPropertyOfType(contextual, prop.name.getText());
    return passTo(
      site,
      target,
      target && checker.getTypeOfSymbol(target),
      `property ${prop.name.getText()} of an object`,
    );
  }
  if (ts.isSpreadAssignment(p)) {
    const contextual = checker.getContextualType(p.parent);
    if (contextual) {
      for (const prop of checker.getPropertiesOfType(contextual))
        if (site.declared.has(prop.name)) site.used.add(prop.name);
      return;
    }
  }
  site.escapes.push(ts.SyntaxKind[p.kind]);
}

// 2. Every reference to a site, in every product file.
for (const sf of productFiles) {
  const visit = (node) => {
    if (ts.isIdentifier(node)) {
      const symbol = ts.isShorthandPropertyAssignment(node.parent)
        ? checker.getShorthandAssignmentValueSymbol(node.parent)
        : checker.getSymbolAtLocation(node);
      const site = symbol && sites.get(symbol);
      const isDeclarationName =
        (node.parent.name === node &&
          !ts.isPropertyAccessExpression(node.parent) &&
          !ts.isShorthandPropertyAssignment(node.parent)) ||
        (ts.isBindingElement(node.parent) && node.parent.propertyName === node);
      if (site && !isDeclarationName && !ts.isTypeQueryNode(node.parent)) use(site, node);
    }
    // `const { services } = deps`: the local `services` receives the property `deps.services`.
    if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent) && !node.dotDotDotToken) {
      const from = checker.getTypeAtLocation(node.parent);
      const prop = checker.getPropertyOfType(from, (node.propertyName ?? node.name).getText());
      const site = prop && sites.get(prop);
      if (site && ts.isIdentifier(node.name))
        passTo(site, checker.getSymbolAtLocation(node.name), undefined, 'binding');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

// 3. What each site uses, through what it passes on (a fixed point), and what escaped.
for (const site of new Set(sites.values())) {
  if (site.escapes.length > 0) for (const m of site.declared) site.used.add(m);
}
for (let changed = true; changed;) {
  changed = false;
  for (const site of new Set(sites.values())) {
    for (const target of site.edges) {
      for (const m of target.used) {
        if (site.declared.has(m) && !site.used.has(m)) {
          site.used.add(m);
          changed = true;
        }
      }
    }
  }
}

// 4. Per file: does it receive the whole bag; how many members do its sites declare and use.
const all = members.size;
const byFile = new Map();
for (const site of new Set(sites.values())) {
  const f = byFile.get(site.file) ?? { whole: false, declared: 0, used: new Set(), sites: [] };
  f.whole ||= site.declared.size === all;
  f.declared = Math.max(f.declared, site.declared.size);
  for (const m of site.used) f.used.add(m);
  f.sites.push(site);
  byFile.set(site.file, f);
}
const files = [...byFile.entries()].sort(([a], [b]) => a.localeCompare(b));
const whole = files.filter(([, f]) => f.whole);
const wholeNonRoot = whole.filter(([name]) => !ROOTS.has(name));
const narrow = [...new Set(sites.values())].filter((s) => s.declared.size < all && !ROOTS.has(s.file));
const largest = narrow.reduce((max, s) => (s.declared.size > max.declared.size ? s : max), {
  declared: new Set(),
});
const importers = productFiles.filter((sf) =>
  sf.statements.some(
    (s) =>
      ts.isImportDeclaration(s) &&
      /\/services\.ts$/.test(s.moduleSpecifier.text) &&
      s.importClause?.getText().match(/\bServices\b/),
  ),
);

const out = [];
out.push(`Services has ${all} members: ${[...members.keys()].join(', ')}`);
out.push(`product files importing the Services type: ${importers.length}`);
out.push(
  `product files receiving the whole bag: ${whole.length} (${wholeNonRoot.length} not composition roots)`,
);
out.push(
  `largest narrow deps outside the roots: ${largest.declared.size} members` +
    (largest.file ? ` (${largest.file}:${largest.line} ${largest.name})` : ''),
);
out.push('');
out.push('file                                           whole  declared  used  used members');
for (const [name, f] of files) {
  const flag = f.whole ? (ROOTS.has(name) ? 'root' : 'YES') : '-';
  out.push(
    `${name.padEnd(46)} ${flag.padEnd(6)} ${String(f.declared).padStart(8)}  ${String(f.used.size).padStart(4)}  ` +
      [...f.used].sort().join(' '),
  );
  if (showSites) {
    for (const s of f.sites) {
      const unused = [...s.declared].filter((m) => !s.used.has(m));
      out.push(
        `    :${s.line} ${s.name} declares ${s.declared.size}, uses ${s.used.size}` +
          (unused.length && s.declared.size < all ? `; declared but unused: ${unused.join(' ')}` : '') +
          (s.escapes.length ? `; escapes: ${[...new Set(s.escapes)].join(', ')}` : ''),
      );
    }
  }
}
process.stdout.write(out.join('\n') + '\n');
