"""tlhelpers: the reusable code behind the *Transfer Learning with Keras* course.

A notebook imports at most four names: ``course`` (set-up, data, results), ``lesson`` (the
lesson's helpers), ``views`` (figures and explorers) and, in notebook 07, ``check``. The
code behind them sits in subpackages by job, one layer each, lowest first: ``settings``,
``startup``, ``storage``, ``datasets``, ``transfer``, ``analysis``, ``figures``,
``exercises`` (docs/architecture.md). Nothing is imported until it is used, so
``import tlhelpers`` is fast.

The modules of the first, flat layout keep working under their old names (``tlhelpers.plots``
is ``tlhelpers.figures.plots``, the same module object), with a FutureWarning that gives the
new name.

>>> import tlhelpers
>>> tlhelpers.__version__
'0.1.0'
>>> tlhelpers.MOVED["plots"]
'tlhelpers.figures.plots'
"""

import importlib as _importlib
import importlib.abc as _abc
import importlib.util as _util
import os as _os
import sys as _sys
import warnings as _warnings

# Keep TensorFlow's C++ start-up chatter out of the notebooks (errors still show).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

_LAYOUT = {
    "settings": "config registry quiet", "startup": "notebook launch",
    "storage": "cachefile assets imagedecode imagefiles", "datasets": "data flowers fetch",
    "transfer": "backbones pipeline folders shifts params walk models features training devices heads "
                "trainability experiments augment",
    "analysis": "stats evaluation results measured measured_finetune zoo probing",
    "figures": "plots_models plots explore augment_explorer",
    "exercises": "feedback inspection check_runs check_evidence check_saving check_models check_tasks",
}
#: Old flat module name -> the module's full name in the subpackage layout.
MOVED = {name: f"tlhelpers.{package}.{name}" for package, names in _LAYOUT.items() for name in names.split()}


class _MovedModules(_abc.MetaPathFinder, _abc.Loader):
    """Answers ``import tlhelpers.<old name>`` with the module itself, from its new place."""

    def __init__(self):
        self._specs = {}

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in MOVED:
            return None
        return _util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        name = spec.name.rpartition(".")[2]
        _warnings.warn(f"{spec.name} is now {MOVED[name]}: import it from there (in a notebook, "
                       "`from tlhelpers import course, lesson, views` has every name the course uses).",
                       FutureWarning, stacklevel=2)   # at the import line: warnings skips importlib's frames
        module = _importlib.import_module(MOVED[name])
        self._specs[spec.name] = module.__spec__   # importlib sets the alias's __spec__: put it back
        return module

    def exec_module(self, module):
        module.__spec__ = self._specs.pop(module.__spec__.name, module.__spec__)

    def get_code(self, fullname):
        """``python -m tlhelpers.launch`` (runpy asks for the code): the new module's, with the warning."""
        new = MOVED[fullname.rpartition(".")[2]]
        _warnings.warn(f"{fullname} is now {new}: run `python -m {new}` (or `python -m tlhelpers launch` "
                       "and `python -m tlhelpers fetch`).", FutureWarning, stacklevel=2)
        return _util.find_spec(new).loader.get_code(new)


if not any(type(finder).__qualname__ == "_MovedModules" and type(finder).__module__ == __name__
           for finder in _sys.meta_path):   # once, also when the package is reloaded
    _sys.meta_path.append(_MovedModules())
