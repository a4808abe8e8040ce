__version__ = "0.1.0"
# Importing the package first runs the torchvision shim in `core`, so `import timm` works afterwards on any install.
from . import core as _core  # noqa: F401
