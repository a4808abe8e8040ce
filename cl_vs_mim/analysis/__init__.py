"Analyses as pure functions of captured tensors: one module per family (exported from nbs/1x_*), re-exported here."
from .attention import *  # noqa: F401,F403
from .probing import *  # noqa: F401,F403
from .representations import *  # noqa: F401,F403
from .similarity import *  # noqa: F401,F403
from .robustness import *  # noqa: F401,F403
from .mae import *  # noqa: F401,F403
from .layerwise import *  # noqa: F401,F403
