# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/keras-components/blob/main/examples/04_wgan_gp.ipynb)
#
# # 4. A WGAN-GP on a 2-D toy distribution
#
# A generator learns a ring (radius 2) from Gaussian noise. The critic is trained
# with `WassersteinLoss` (labels -1 for real, +1 for generated samples) plus
# `gradient_penalty` (Gulrajani et al., 2017), five critic steps per generator
# step. The custom training step uses `tf.GradientTape`, so this notebook needs
# the TensorFlow backend. Samples are plotted over training.

# %%
# Setup 1/2: install keras-components where it is not importable (Colab). The
# only network access of this notebook: a shallow clone of the repository (which
# also holds the data files example 06 reads) and `pip install` from it.
import importlib
import importlib.util
import os
import pathlib
import subprocess
import sys

REPOSITORY = "OWNER/keras-components"  # GitHub owner/name: see examples/README.md


def _checkout(start):
    """The repository folder holding `start` (a keras_components checkout)."""
    for folder in [start, *start.parents]:
        if (folder / "keras_components").is_dir() and (folder / "examples").is_dir():
            return folder
    return None


ROOT = _checkout(pathlib.Path.cwd().resolve())
if importlib.util.find_spec("keras_components") is None:
    if ROOT is None:  # Colab, or anywhere outside a checkout
        ROOT = pathlib.Path.cwd() / "keras-components"
        if not ROOT.exists():
            url = f"https://github.com/{REPOSITORY}"
            subprocess.run(
                ["git", "clone", "-q", "--depth", "1", url, ROOT], check=True
            )
        pip = [sys.executable, "-m", "pip", "install", "-q", f"{ROOT}[demo]"]
        subprocess.run(pip, check=True)
        importlib.invalidate_caches()
    else:  # a checkout: use it as it is
        sys.path.insert(0, str(ROOT))

# %%
# Setup 2/2: size switch, output folder, pictures.
#   KC_SMALL=1    small data and few epochs (under about a minute on 2 CPU cores)
#   KC_GALLERY=1  also write the figures into docs/gallery/ of the checkout
#   KC_OUT=DIR    where files go (default: a new temporary folder)
import tempfile

SMALL = os.environ.get("KC_SMALL", "") == "1"
GALLERY = os.environ.get("KC_GALLERY", "") == "1" and ROOT is not None
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


# %%
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np
import tensorflow as tf

import keras_components as kc

assert keras.backend.backend() == "tensorflow", "this notebook's training step uses tf"
keras.utils.set_random_seed(0)

steps, batch = (500, 256) if SMALL else (4000, 512)
NOISE = 4
RADIUS = 2.0


def real_batch(rng, count):
    """Samples of a ring of radius 2 (radial standard deviation 0.1)."""
    angle = rng.uniform(0.0, 2 * np.pi, size=count)
    radius = RADIUS + rng.normal(0.0, 0.1, size=count)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(
        "float32"
    )


def mlp(inputs, outputs, name):
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(128, activation=kc.activations.mish),
            keras.layers.Dense(128, activation=kc.activations.mish),
            keras.layers.Dense(outputs),
        ],
        name=name,
    )


generator, critic = mlp(NOISE, 2, "generator"), mlp(2, 1, "critic")
critic_optimizer = keras.optimizers.Adam(1e-4 * 5, beta_1=0.5, beta_2=0.9)
generator_optimizer = keras.optimizers.Adam(1e-4 * 5, beta_1=0.5, beta_2=0.9)
wasserstein = kc.WassersteinLoss()
seeds = keras.random.SeedGenerator(1)  # fresh interpolations in every step

# %% [markdown]
# ## The training step
#
# Critic: `WassersteinLoss` on real (-1) and generated (+1) scores, i.e.
# `(mean D(fake) - mean D(real)) / 2`, plus the penalty on interpolates. Generator:
# `WassersteinLoss` with label -1 on its samples (it pushes their scores up).


# %%
@tf.function
def train_step(real):
    count = tf.shape(real)[0]
    for _ in range(5):
        noise = tf.random.normal((count, NOISE))
        with tf.GradientTape() as tape:
            fake = generator(noise, training=True)
            scores = critic(tf.concat([real, fake], 0), training=True)
            labels = tf.concat([-tf.ones((count, 1)), tf.ones((count, 1))], 0)
            critic_loss = wasserstein(labels, scores)
            penalty = kc.losses.gradient_penalty(
                critic, real, fake, weight=10.0, seed=seeds
            )
            total = critic_loss + penalty
        grads = tape.gradient(total, critic.trainable_variables)
        critic_optimizer.apply_gradients(
            zip(grads, critic.trainable_variables, strict=True)
        )
    with tf.GradientTape() as tape:
        fake = generator(tf.random.normal((count, NOISE)), training=True)
        generator_loss = wasserstein(-tf.ones((count, 1)), critic(fake, training=True))
    grads = tape.gradient(generator_loss, generator.trainable_variables)
    generator_optimizer.apply_gradients(
        zip(grads, generator.trainable_variables, strict=True)
    )
    # -2 * critic_loss = mean D(real) - mean D(fake): the critic's estimate of the
    # Wasserstein distance, which falls as the generator's samples approach the data.
    return -2.0 * critic_loss, penalty


rng = np.random.default_rng(0)
fixed_noise = np.random.default_rng(1).normal(size=(1000, NOISE)).astype("float32")
snapshots, distance, penalties = {}, [], []
snapshot_steps = {0, steps // 8, steps // 3}
for step in range(steps):
    if step in snapshot_steps:
        snapshots[step] = keras.ops.convert_to_numpy(generator(fixed_noise))
    w, gp = train_step(real_batch(rng, batch))
    distance.append(float(w))
    penalties.append(float(gp))
    if step % (steps // 6) == 0:
        print(f"step {step:5d}  critic's W estimate {w:8.4f}  penalty {gp:.4f}")


# %% [markdown]
# ## The critic loss trend, and the samples
#
# The critic's Wasserstein estimate rises at first (the critic learns to tell the
# two apart) and then falls as the generator's samples approach the ring; the
# generated samples end up near the ring.


# %%
def smooth(values, width):
    return np.convolve(values, np.ones(width) / width, mode="valid")


trend = smooth(np.asarray(distance), max(10, steps // 20))
peak, end = float(trend.max()), float(trend[-1])
print(f"W estimate: peak {peak:.3f}, end {end:.3f}")
assert end < 0.5 * peak, (peak, end)


def ring_distance(samples):
    """Mean distance of the samples to the ring."""
    return float(np.abs(np.linalg.norm(samples, axis=1) - RADIUS).mean())


final = keras.ops.convert_to_numpy(generator(fixed_noise))
first, last = ring_distance(snapshots[0]), ring_distance(final)
print(f"mean distance to the ring: {first:.3f} at the start, {last:.3f} at the end")
assert last < 0.5 * first, (first, last)

# %%
fig = figure(figsize=(10, 3.2))
if fig is not None:
    shown = [*sorted(snapshots.items()), (steps, final)]
    axes = fig.subplots(1, len(shown))
    reference = real_batch(np.random.default_rng(2), 1000)
    for ax, (step, samples) in zip(axes, shown, strict=True):
        ax.scatter(*reference.T, s=2, color="0.75")
        ax.scatter(*samples.T, s=2, color="#e4572e")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), title=f"step {step}", aspect="equal")
        ax.set_xticks([])
        ax.set_yticks([])
show(fig, "04_wgan_samples.png")

fig = figure(figsize=(6, 3))
if fig is not None:
    ax = fig.add_subplot()
    ax.plot(distance, color="0.75", lw=0.6, label="per step")
    ax.plot(
        np.arange(len(trend)) + (len(distance) - len(trend)), trend, label="smoothed"
    )
    ax.set(xlabel="generator step", ylabel="mean D(real) - mean D(fake)")
    ax.set_title("critic's Wasserstein estimate")
    ax.legend(fontsize=8)
show(fig, "04_wgan_critic_loss.png")
