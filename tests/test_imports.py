"""The package's module graph: no import cycle (lazy imports inside functions count too), no private name imported
from another module, no star import but in `fastseq.all`; and the star-import surface imports."""
import ast
import pathlib
import subprocess
import sys

PKG = pathlib.Path(__file__).parent.parent / 'fastseq'


def _imports(path):
    "(module imported, names taken) for every import of a fastseq module in the file, at any depth."
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith('fastseq')):
            base = (node.module or '').removeprefix('fastseq').lstrip('.')
            names = [a.name for a in node.names]
            if not base: yield from ((n, []) for n in names)            # from . import x
            else: yield base.split('.')[0], names
        elif isinstance(node, ast.Import):
            yield from ((a.name.split('.')[1], []) for a in node.names if a.name.startswith('fastseq.'))


def graph():
    "Module name → set of fastseq modules it imports."
    mods = {p.stem for p in PKG.glob('*.py')}
    return {p.stem: {m for m, _ in _imports(p) if m in mods and m != p.stem} for p in PKG.glob('*.py')
            if p.stem not in ('__init__', 'all')}


def find_cycle(g):
    "One import cycle as a list of modules, or None."
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)): return cycle
        state[m] = 'done'; stack.pop()
    return next((c for m in sorted(g) if m not in state and (c := visit(m))), None)


def test_the_package_has_no_import_cycle():
    g = graph()
    assert {'data', 'cache', 'training', 'cli'} <= set(g)
    assert find_cycle(g) is None, f"import cycle: {' → '.join(find_cycle(g))}"


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) is None


def test_no_private_names_cross_modules_and_no_star_imports():
    for p in PKG.glob('*.py'):
        for mod, names in _imports(p):
            assert not [n for n in names if n.startswith('_') and n != '__version__'], (p.name, mod, names)
            assert '*' not in names or p.stem == 'all', p.name


def test_the_notebook_surface_imports_in_a_fresh_interpreter():
    r = subprocess.run([sys.executable, '-c', 'import fastseq.all, fastseq; print(fastseq.train.__name__)'],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == 'train', r.stderr
