"""What the six example notebooks share: the size switch, the output folder, figures.

Each notebook's install cell puts this folder on `sys.path` (in a checkout, or
in the repository clone it makes on Colab) and the next cell imports from here:

    from _setup import OUT, SMALL, figure, show

Switches (environment variables, read once at import):

- `KC_SMALL=1`: small data and few epochs (under about a minute on 2 CPU cores);
- `KC_GALLERY=1`: also write the figures into `docs/gallery/` of the checkout
  holding this file;
- `KC_OUT=DIR`: where files go (default: a new temporary folder).

Not part of the package: examples only (the notebooks need the repository
anyway, see examples/README.md).
"""

import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]  # the checkout holding examples/
SMALL = os.environ.get("KC_SMALL", "") == "1"
GALLERY = os.environ.get("KC_GALLERY", "") == "1"
OUT = pathlib.Path(os.environ.get("KC_OUT") or tempfile.mkdtemp(prefix="kc_examples_"))
OUT.mkdir(parents=True, exist_ok=True)
print(f"size: {'small (KC_SMALL=1)' if SMALL else 'full'}; files go to {OUT}")

try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError:
    Figure = None
    print(
        "matplotlib is not installed: the figures are skipped, everything else runs. "
        'Install it with: pip install "keras-components[plot]"'
    )


def figure(**kwargs):
    """A new matplotlib Figure (no pyplot: no window, no global state), or None."""
    if Figure is None:
        return None
    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def show(fig_or_png, name):
    """Saves a Figure (or copies a PNG) as OUT/name, shows it, fills the gallery."""
    if fig_or_png is None:
        return None
    path = OUT / name
    if isinstance(fig_or_png, (str, os.PathLike)):
        if pathlib.Path(fig_or_png) != path:
            path.write_bytes(pathlib.Path(fig_or_png).read_bytes())
    else:
        fig_or_png.savefig(path, format="png", dpi=72)
    if GALLERY:  # a small copy: 64 colours (Pillow comes with matplotlib)
        from PIL import Image as PILImage

        gallery = ROOT / "docs" / "gallery"
        gallery.mkdir(parents=True, exist_ok=True)
        small = PILImage.open(path).convert("RGB").quantize(64)
        small.save(gallery / name, format="PNG", optimize=True)
    if "IPython" in sys.modules and sys.modules["IPython"].get_ipython() is not None:
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print(f"figure: {path}")
    return path
