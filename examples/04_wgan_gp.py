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
# A generator learns a ring (radius 2) from 2-D Gaussian noise. The critic is
# trained with `WassersteinLoss` (labels -1 for real, +1 for generated samples)
# plus `gradient_penalty` (lambda = 10), five critic steps per generator step,
# Adam(2e-4, beta_1=0.5, beta_2=0.9) for both: the settings of Gulrajani et al.,
# 2017 ("Improved Training of Wasserstein GANs"). The custom training step uses
# `tf.GradientTape`, so this notebook needs the TensorFlow backend. Samples are
# plotted over training.

# %%
# Setup: install keras-components where it is not importable (Colab), and put
# examples/ on the path for the helpers all six notebooks share
# (examples/_setup.py). The only network access of this notebook: a shallow clone
# of the repository (which also holds those helpers and the data files example
# 06 reads) and `pip install` from it.
import importlib
import importlib.util
import pathlib
import subprocess
import sys

REPOSITORY = "OWNER/keras-components"  # GitHub owner/name: see examples/README.md


def _checkout(start):
    """The repository folder holding `start` (a keras_components checkout)."""
    for folder in [start, *start.parents]:
        if (folder / "keras_components").is_dir() and (
            folder / "examples" / "_setup.py"
        ).is_file():
            return folder
    return None


_spec = importlib.util.find_spec("keras_components")
ROOT = _checkout(pathlib.Path.cwd().resolve())
if ROOT is None and _spec is not None:  # importable: from a checkout?
    ROOT = _checkout(pathlib.Path(_spec.origin).resolve().parent)
if ROOT is None:  # Colab, or anywhere outside a checkout
    ROOT = pathlib.Path.cwd() / "keras-components"
    if not ROOT.exists():
        url = f"https://github.com/{REPOSITORY}"
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, ROOT], check=True)
    if _spec is None:
        pip = [sys.executable, "-m", "pip", "install", "-q", f"{ROOT}[demo]"]
        subprocess.run(pip, check=True)
        importlib.invalidate_caches()
elif _spec is None:  # a checkout: use it as it is
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

# %%
import os

from _setup import SMALL, figure, show

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np
import tensorflow as tf

import keras_components as kc

assert keras.backend.backend() == "tensorflow", "this notebook's training step uses tf"
keras.utils.set_random_seed(0)

# Full size: 2000 generator steps (10000 critic steps) of 256 samples.
# KC_SMALL=1: the first 1200 of them.
steps, batch = (1200, 256) if SMALL else (2000, 256)
learning_rate = 2e-4
N_CRITIC = 5  # critic steps per generator step
NOISE = 2
RADIUS = 2.0


def real_batch(rng, count):
    """Samples of a ring of radius 2 (radial standard deviation 0.1)."""
    angle = rng.uniform(0.0, 2 * np.pi, size=count)
    radius = RADIUS + rng.normal(0.0, 0.1, size=count)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(
        "float32"
    )


def mlp(inputs, outputs, name):
    """Three hidden ReLU layers of 128 units (the paper's toy models, narrower)."""
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(outputs),
        ],
        name=name,
    )


generator, critic = mlp(NOISE, 2, "generator"), mlp(2, 1, "critic")
# Adam(beta_1=0.5, beta_2=0.9), as in Gulrajani et al.'s toy experiments.
critic_optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
generator_optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
wasserstein = kc.WassersteinLoss()
seeds = keras.random.SeedGenerator(1)  # fresh noise and interpolations every step

# %% [markdown]
# ## The training step
#
# Critic, `N_CRITIC = 5` times per generator step, each time on a fresh real
# batch: `WassersteinLoss` with label -1 on the real and +1 on the generated
# scores, one mean each, so the loss is `mean D(fake) - mean D(real)` (the paper's
# scale, for which the penalty weight lambda = 10 is tuned), plus
# `gradient_penalty` on interpolates. Generator: `WassersteinLoss` with label -1
# on its samples (it pushes their scores up).


# %%
@tf.function
def train_step(reals):
    count = tf.shape(reals)[1]
    real_labels, fake_labels = -tf.ones((count, 1)), tf.ones((count, 1))
    for i in range(N_CRITIC):
        real = reals[i]
        noise = keras.random.normal((count, NOISE), seed=seeds)
        with tf.GradientTape() as tape:
            fake = generator(noise, training=True)
            critic_loss = wasserstein(
                real_labels, critic(real, training=True)
            ) + wasserstein(fake_labels, critic(fake, training=True))
            penalty = kc.losses.gradient_penalty(
                critic, real, fake, weight=10.0, seed=seeds, training=True
            )
            total = critic_loss + penalty
        grads = tape.gradient(total, critic.trainable_variables)
        critic_optimizer.apply_gradients(
            zip(grads, critic.trainable_variables, strict=True)
        )
    with tf.GradientTape() as tape:
        fake = generator(keras.random.normal((count, NOISE), seed=seeds), training=True)
        generator_loss = wasserstein(real_labels, critic(fake, training=True))
    grads = tape.gradient(generator_loss, generator.trainable_variables)
    generator_optimizer.apply_gradients(
        zip(grads, generator.trainable_variables, strict=True)
    )
    # -critic_loss = mean D(real) - mean D(fake): the critic's estimate of the
    # Wasserstein distance, which falls as the generator's samples approach the data.
    return -critic_loss, penalty


rng = np.random.default_rng(0)
fixed_noise = np.random.default_rng(1).normal(size=(2000, NOISE)).astype("float32")
snapshots, distance, penalties = {}, [], []
snapshot_steps = {0, steps // 8, steps // 3}
for step in range(steps):
    if step in snapshot_steps:
        snapshots[step] = keras.ops.convert_to_numpy(generator(fixed_noise))
    reals = np.stack([real_batch(rng, batch) for _ in range(N_CRITIC)])
    w, gp = train_step(reals)
    distance.append(float(w))
    penalties.append(float(gp))
    if step % (steps // 5) == 0 or step == steps - 1:
        print(f"step {step:5d}  critic's W estimate {w:8.4f}  penalty {gp:.4f}")


# %% [markdown]
# ## The critic loss trend, and the samples
#
# The critic's Wasserstein estimate rises at first (the critic learns to tell the
# two apart), the gradient penalty holds the critic's gradient norm near 1 (it
# falls from its first steps and stays small) and the generator's samples move
# out from the origin towards the ring. These are what the checks below assert:
# they held, with a margin, on each of 6 seeds on an AVX-512 CPU, both natively
# and with oneDNN limited to AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`).
# Then the estimate falls as the samples approach the ring, in most runs.
#
# Whether a run this short also covers the whole ring is a matter of chance: GAN
# training is chaotic, so a different seed, or a CPU whose kernels round one
# matrix product differently (AVX2 against AVX-512), gives a different run, and
# in about half of such runs the samples still sit on a few arcs after 1200 steps
# (they spread further with more steps). The sector shares are printed, not
# asserted. Gulrajani et al. train their toy models for 100,000 generator steps.


# %%
def smooth(values, width):
    return np.convolve(values, np.ones(width) / width, mode="valid")


trend = smooth(np.asarray(distance), max(10, steps // 20))
peak, end = float(trend.max()), float(trend[-1])
early, late = np.mean(penalties[:10]), np.mean(penalties[-(steps // 4) :])
print(f"W estimate (smoothed): peak {peak:.3f}, end {end:.3f}")
print(f"penalty: {early:.3f} over the first 10 steps, {late:.3f} over the last quarter")
assert peak > 0.5, peak  # the critic tells them apart
assert late < 0.3 * early, (early, late)


def ring_distance(samples):
    """Mean distance of the samples to the ring."""
    return float(np.abs(np.linalg.norm(samples, axis=1) - RADIUS).mean())


def sector_shares(samples, sectors=8):
    """The fraction of the samples in each of `sectors` equal sectors of angle."""
    angle = np.arctan2(samples[:, 1], samples[:, 0]) + np.pi
    index = np.minimum((angle / (2 * np.pi) * sectors).astype(int), sectors - 1)
    return np.bincount(index, minlength=sectors) / len(samples)


final = keras.ops.convert_to_numpy(generator(fixed_noise))
first, last = ring_distance(snapshots[0]), ring_distance(final)
shares = sector_shares(final)
print(f"mean distance to the ring: {first:.3f} at the start, {last:.3f} at the end")
print("share of the samples per sector of 45 degrees:", np.round(shares, 3))
assert last < 0.9 * first, (first, last)

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
