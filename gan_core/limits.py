"""The bounds of a config's numbers, and why each is where it is (``gan_core.knobs`` declares which key has which)."""

# The largest seed. A run seeds each of its random streams with seed * 1000 + offset (``gan_core.runtime.stream``:
# SEED_STRIDE 1000, offsets 1 to 4) and its initial weights with torch.manual_seed(seed); torch's CPU generator (a
# Mersenne Twister) keeps only the low 32 bits of a seed, so beyond this the stream seeds wrap modulo 2**32 and a
# seed silently draws another seed's numbers (seed 2**29 would draw exactly seed 0's data and noise). The CUDA generator
# keeps 64 bits: the CPU's 32 are the bound.
MAX_SEED = (2**32 - 1 - 4) // 1000  # 4,294,967
# The most generator steps a run may take (``steps``, and ``eval_every``; ``k * steps`` bounds the discriminator's):
# 2,500 times the longest preset of the studies (mode_collapse --full: PacGAN's 400 epochs, 400,000 steps)
# and days of training even for the smallest network, so no real study reaches it, while a slip such as
# steps=1e99 would otherwise be a run that never ends.
MAX_STEPS = 10**9
# The most reports a run may make (steps / eval_every, rounded up): every report evaluates the generator and
# assesses the run's stability over its whole history so far, so reports cost O(reports^2) in all; the studies'
# presets make at most 40, and 10,000 keeps a run's history and its assessment small.
MAX_REPORTS = 10_000
# Sizes past these are no network anyone means: a width or batch beyond 2**31 - 1 overflows torch's shape arithmetic
# with a traceback, 1,000 layers make the memory estimate itself take minutes, and torch refuses more threads than
# a machine has cores with a cryptic "Overflow" (the largest machines have a few hundred).
MAX_SIZE = 2**31 - 1
MAX_LAYERS = 1_000
MAX_THREADS = 1_024
# The largest whole number a float holds exactly: an integral float beyond it (1e99) is no integer anyone typed.
MAX_EXACT_FLOAT_INT = 2**53
SEED_RULE = f"an integer from 0 to {MAX_SEED} (each random stream is seeded with seed * 1000 + 1..4, and torch's " \
            f"CPU generator keeps only 32 bits of a seed)"
