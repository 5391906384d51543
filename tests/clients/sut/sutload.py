"""Load a fixtures/sut program (an executable without .py) as a module."""

import importlib.machinery
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("EFKSIM_SOURCE_DIR") or os.path.normpath(
    os.path.join(HERE, "..", "..", ".."))
SUT_DIR = os.path.join(SOURCE_DIR, "fixtures", "sut")


def sut_path(name):
    return os.path.join(SUT_DIR, name)


def load(name, modname):
    path = sut_path(name)
    loader = importlib.machinery.SourceFileLoader(modname, path)
    spec = importlib.util.spec_from_loader(modname, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
