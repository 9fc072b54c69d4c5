"""studies: GAN experiments as Ray Tune studies. Each study is a script with ``--help`` and ``--smoke-test``:

    python studies/arch_ablation.py   # which DCGAN guidelines matter (the main study)
    python studies/k_sweep.py         # discriminator steps k x generator loss
    python studies/lr_search.py       # Optuna TPE + ASHA over lr_d, lr_g, beta1
    python studies/theory_check.py    # trained D against the optimal D* of the theory

Shared parts: ``runner`` (StudySpec -> Ray Tune experiment, resume, report), ``trainable`` (the function
trainables), ``space`` (variants x seeds as a Tune search space), ``cli`` (options, presets, exit code 2),
``connect`` (joining or starting Ray), ``results`` (experiment directory, study.json, report).
"""
