"""Plausible wrong answers to Chapter12/hw12_diffusion.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.

The raw-integer time input is rejected by question 5 (the denoiser must feed the embedding
to its network). Question 6's threshold alone does not reject it: on this 2-D toy an MLP
given the raw step, trained as the solution is, reaches about the same held-out error at
t = 25-200 in some seeds (0.64-0.71 against the solution's 0.64), so it is not listed there.
"""

from bios740.tools.homework import swap as _swap

# ------------------------------------------------------------------ question 1: forward

_CUMULATIVE = "def cumulative_alphas(betas):\n    return torch.cumprod(1 - betas, dim=0)\n\n\n"
_Q_SAMPLE = (
    "def q_sample(x0, t, noise, alpha_bar):\n"
    "    bar = alpha_bar[t].reshape(-1, *[1] * (x0.ndim - 1))\n"
    "    return (bar.sqrt() * x0 + (1 - bar).sqrt() * noise).to(x0.dtype)\n"
)


def _cumulative(body: str) -> str:
    return "def cumulative_alphas(betas):\n" + body


def _q_sample(old: str, new: str) -> str:
    return _swap(_Q_SAMPLE, old, new)


# ------------------------------------------------------------------ question 2: loss

_LOSS = (
    "def epsilon_loss(model, x0, t, noise, alpha_bar):\n"
    "    x_t = q_sample(x0, t, noise, alpha_bar)\n"
    "    return ((model(x_t, t) - noise) ** 2).mean()\n"
)


def _loss(old: str, new: str) -> str:
    return _swap(_LOSS, old, new)


# ------------------------------------------------------------------ question 3: DDPM step

_DDPM = (
    "def ddpm_step(eps_hat, x_t, t, betas, noise):\n"
    "    bar = torch.cumprod(1 - betas, 0)\n"
    "    alpha_t = 1 - betas[t]\n"
    "    mean = (x_t - betas[t] / (1 - bar[t]).sqrt() * eps_hat) / alpha_t.sqrt()\n"
    "    if t == 0:\n"
    "        return mean\n"
    "    variance = (1 - bar[t - 1]) / (1 - bar[t]) * betas[t]\n"
    "    return mean + variance.sqrt() * noise\n"
)


def _ddpm(old: str, new: str) -> str:
    return _swap(_DDPM, old, new)


# ------------------------------------------------------------------ question 4: DDIM step

_DDIM = (
    "def ddim_step(eps_hat, x_t, t, t_prev, alpha_bar, eta, noise):\n"
    "    bar_t = alpha_bar[t]\n"
    "    bar_s = alpha_bar[t_prev] if t_prev >= 0 else torch.tensor(1.0, dtype=alpha_bar.dtype)\n"
    "    x0_hat = (x_t - (1 - bar_t).sqrt() * eps_hat) / bar_t.sqrt()\n"
    "    sigma = eta * ((1 - bar_s) / (1 - bar_t)).sqrt() * (1 - bar_t / bar_s).sqrt()\n"
    "    return bar_s.sqrt() * x0_hat + (1 - bar_s - sigma**2).sqrt() * eps_hat + sigma * noise\n"
)


def _ddim(old: str, new: str) -> str:
    return _swap(_DDIM, old, new)


# ------------------------------------------------------------------ question 5: embedding

_EMBEDDING = (
    "def timestep_embedding(t, dim):\n"
    "    half = dim // 2\n"
    "    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)\n"
    "    angles = t.float()[:, None] * freqs[None, :]\n"
    "    return torch.cat([angles.cos(), angles.sin()], dim=1)\n"
)


def _embedding(old: str, new: str) -> str:
    return _swap(_EMBEDDING, old, new)


def _denoiser(inputs: str, features: str) -> str:
    return (
        "class Denoiser(nn.Module):\n"
        "    def __init__(self, hidden=128, time_dim=32):\n"
        "        super().__init__()\n"
        "        self.time_dim = time_dim\n"
        "        self.net = nn.Sequential(\n"
        f"            nn.Linear({inputs}, hidden), nn.SiLU(),\n"
        "            nn.Linear(hidden, hidden), nn.SiLU(),\n"
        "            nn.Linear(hidden, hidden), nn.SiLU(),\n"
        "            nn.Linear(hidden, 2),\n"
        "        )\n"
        "\n"
        "    def forward(self, x, t):\n"
        f"        return self.net(torch.cat([x, {features}], dim=1))\n"
    )


# ------------------------------------------------------------------ question 6: training

_TRAIN = (
    "def train_denoiser(data, alpha_bar, train_steps=TRAIN_STEPS, seed=SEED):\n"
    "    torch.manual_seed(seed)\n"
    "    network = Denoiser(128, 32)\n"
    "    schedule = alpha_bar.float()\n"
    "    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)\n"
    "    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, train_steps)\n"
    "    g = torch.Generator().manual_seed(seed)\n"
    "    for _ in range(train_steps):\n"
    "        rows = torch.randint(len(data), (256,), generator=g)\n"
    "        u = torch.rand(256, generator=g)\n"
    "        steps = (u**2 * len(schedule)).long().clamp(max=len(schedule) - 1)\n"
    "        noise = torch.randn((256, 2), generator=g)\n"
    "        loss = epsilon_loss(network, data[rows], steps, noise, schedule)\n"
    "        optimizer.zero_grad()\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "        decay.step()\n"
    "    return network.eval()\n"
    "\n"
    "\n"
    "denoiser = train_denoiser(train_points, alpha_bar)\n"
)


def _train(old: str = "", new: str = "") -> str:
    return _swap(_TRAIN, old, new) if old else _TRAIN


MISTAKES = {
    "q1_forward": {
        "cumulative product of the betas (beta where 1 - beta)": _cumulative(
            "    return torch.cumprod(betas, dim=0)\n"
        ),
        "alpha_t returned instead of alpha_bar_t (no product)": _cumulative(
            "    return 1 - betas\n"
        ),
        "cumulative sum instead of product": _cumulative(
            "    return torch.cumsum(1 - betas, dim=0)\n"
        ),
        "first-order approximation 1 - sum(beta)": _cumulative(
            "    return 1 - torch.cumsum(betas, dim=0)\n"
        ),
        "off by one: alpha_bar_0 = 1 (product over s < t)": _cumulative(
            "    ones = torch.ones(1, dtype=betas.dtype)\n"
            "    return torch.cat([ones, torch.cumprod(1 - betas, dim=0)[:-1]])\n"
        ),
        "float32 result": _cumulative("    return torch.cumprod(1 - betas, dim=0).float()\n"),
        "no square roots": _q_sample(
            "bar.sqrt() * x0 + (1 - bar).sqrt() * noise", "bar * x0 + (1 - bar) * noise"
        ),
        "noise scaled by the variance 1 - alpha_bar, not its square root": _q_sample(
            "(1 - bar).sqrt() * noise", "(1 - bar) * noise"
        ),
        "signal and noise coefficients swapped": _q_sample(
            "bar.sqrt() * x0 + (1 - bar).sqrt() * noise",
            "(1 - bar).sqrt() * x0 + bar.sqrt() * noise",
        ),
        "off by one: alpha_bar[t - 1]": _q_sample("alpha_bar[t]", "alpha_bar[t - 1]"),
        "off by one: alpha_bar[t + 1], clamped at the end": _q_sample(
            "alpha_bar[t]", "alpha_bar[(t + 1).clamp(max=len(alpha_bar) - 1)]"
        ),
        "coefficients not broadcast over image axes": _q_sample(
            "alpha_bar[t].reshape(-1, *[1] * (x0.ndim - 1))", "alpha_bar[t][:, None]"
        ),
        "one step for the whole batch (t[0])": _q_sample("alpha_bar[t]", "alpha_bar[t[0]]"),
        "dtype not kept (float64 schedule promotes float32 data)": _q_sample(").to(x0.dtype)", ")"),
    },
    "q2_epsilon_loss": {
        "clean data as the target (x0-prediction)": _loss(
            "(model(x_t, t) - noise)", "(model(x_t, t) - x0)"
        ),
        "model shown the clean data x0": _loss("model(x_t, t)", "model(x0, t)"),
        "sum instead of mean": _loss(" ** 2).mean()", " ** 2).sum()"),
        "mean over samples of the per-sample sum": _loss(" ** 2).mean()", " ** 2).sum(1).mean()"),
        "returns a Python float (.item(): no gradient)": _loss(".mean()\n", ".mean().item()\n"),
        "fresh noise drawn instead of the given noise": _loss(
            "    x_t = q_sample(", "    noise = torch.randn_like(x0)\n    x_t = q_sample("
        ),
        "model called with t + 1 (steps counted from 1)": _loss(
            "model(x_t, t)", "model(x_t, t + 1)"
        ),
        "target is the scaled noise sqrt(1 - alpha_bar) * noise": _loss(
            "(model(x_t, t) - noise)",
            "(model(x_t, t) - (1 - alpha_bar[t]).sqrt().reshape(-1, *[1] * (x0.ndim - 1)) * noise)",
        ),
        "absolute error (L1)": _loss(
            "((model(x_t, t) - noise) ** 2)", "(model(x_t, t) - noise).abs()"
        ),
    },
    "q3_ddpm_step": {
        "alpha_t where alpha_bar_t: beta_t / sqrt(1 - alpha_t)": _ddpm(
            "(1 - bar[t]).sqrt() * eps_hat", "(1 - alpha_t).sqrt() * eps_hat"
        ),
        "alpha_bar_t where alpha_t: mean scaled by 1 / sqrt(alpha_bar_t)": _ddpm(
            ") / alpha_t.sqrt()", ") / bar[t].sqrt()"
        ),
        "beta_t where alpha_bar_t: beta_t / sqrt(1 - beta_t)": _ddpm(
            "(1 - bar[t]).sqrt() * eps_hat", "(1 - betas[t]).sqrt() * eps_hat"
        ),
        "no square root on 1 - alpha_bar_t": _ddpm(
            "(1 - bar[t]).sqrt() * eps_hat", "(1 - bar[t]) * eps_hat"
        ),
        "no square root on alpha_t": _ddpm(") / alpha_t.sqrt()", ") / alpha_t"),
        "variance used as the standard deviation (no square root)": _ddpm(
            "variance.sqrt() * noise", "variance * noise"
        ),
        "sigma^2 = beta_t (fixed_large, not the stated fixed_small)": _ddpm(
            "variance = (1 - bar[t - 1]) / (1 - bar[t]) * betas[t]", "variance = betas[t]"
        ),
        "posterior variance ratio inverted": _ddpm(
            "variance = (1 - bar[t - 1]) / (1 - bar[t]) * betas[t]",
            "variance = (1 - bar[t]) / (1 - bar[t - 1]) * betas[t]",
        ),
        "posterior variance without the beta_t factor": _ddpm(
            "variance = (1 - bar[t - 1]) / (1 - bar[t]) * betas[t]",
            "variance = (1 - bar[t - 1]) / (1 - bar[t])",
        ),
        "noise added at the last step (no special case; bar[t - 1] wraps at t = 0)": _ddpm(
            "    if t == 0:\n        return mean\n", ""
        ),
        "noise added at the last step with sigma^2 = beta_0": _ddpm(
            "        return mean\n", "        return mean + betas[0].sqrt() * noise\n"
        ),
        "last-step test off by one: no noise at t = 1 either": _ddpm("if t == 0:", "if t <= 1:"),
        "indices off by one: beta_{t-1}, alpha_bar_{t-1} (steps counted from 1)": (
            "def ddpm_step(eps_hat, x_t, t, betas, noise):\n"
            "    bar = torch.cumprod(1 - betas, 0)\n"
            "    beta, b, b_prev = betas[t - 1], bar[t - 1], bar[t - 2] if t > 1 else torch.tensor(1.0)\n"
            "    mean = (x_t - beta / (1 - b).sqrt() * eps_hat) / (1 - beta).sqrt()\n"
            "    if t == 0:\n"
            "        return mean\n"
            "    return mean + ((1 - b_prev) / (1 - b) * beta).sqrt() * noise\n"
        ),
        "sign of the noise estimate flipped": _ddpm("(x_t - betas[t]", "(x_t + betas[t]"),
    },
    "q4_ddim_step": {
        "eta ignored: always deterministic": _ddim("sigma = eta *", "sigma = 0.0 *"),
        "eta ignored: always eta = 1": _ddim("sigma = eta *", "sigma = 1.0 *"),
        "eta taken as sigma itself": _ddim(
            "sigma = eta * ((1 - bar_s) / (1 - bar_t)).sqrt() * (1 - bar_t / bar_s).sqrt()",
            "sigma = torch.as_tensor(eta, dtype=x_t.dtype)",
        ),
        "sigma^2 not taken out of the direction term": _ddim(
            "(1 - bar_s - sigma**2).sqrt()", "(1 - bar_s).sqrt()"
        ),
        "sigma without its second factor sqrt(1 - alpha_bar_t / alpha_bar_s)": _ddim(
            " * (1 - bar_t / bar_s).sqrt()", ""
        ),
        "x0 estimate without the square roots": _ddim(
            "x0_hat = (x_t - (1 - bar_t).sqrt() * eps_hat) / bar_t.sqrt()",
            "x0_hat = (x_t - (1 - bar_t) * eps_hat) / bar_t",
        ),
        "end of sampling: alpha_bar_0 instead of 1 (set_alpha_to_one=False)": _ddim(
            "else torch.tensor(1.0, dtype=alpha_bar.dtype)", "else alpha_bar[0]"
        ),
        "end of sampling: alpha_bar[-1] (the index wraps to the noisiest step)": _ddim(
            "alpha_bar[t_prev] if t_prev >= 0 else torch.tensor(1.0, dtype=alpha_bar.dtype)",
            "alpha_bar[t_prev]",
        ),
        "off by one: alpha_bar_s read at t_prev + 1": _ddim(
            "alpha_bar[t_prev] if t_prev >= 0 else torch.tensor(1.0, dtype=alpha_bar.dtype)",
            "alpha_bar[t_prev + 1]",
        ),
        "off by one: alpha_bar_t read at t - 1": _ddim(
            "bar_t = alpha_bar[t]", "bar_t = alpha_bar[t - 1]"
        ),
        "fresh noise in place of the predicted direction (q_sample of x0_hat)": _ddim(
            "(1 - bar_s - sigma**2).sqrt() * eps_hat + sigma * noise", "(1 - bar_s).sqrt() * noise"
        ),
    },
    "q5_time_embedding": {
        "sines first (flip_sin_to_cos=False)": _embedding(
            "[angles.cos(), angles.sin()]", "[angles.sin(), angles.cos()]"
        ),
        "frequency shift 1: exponent k / (dim/2 - 1)": _embedding(
            "dtype=torch.float32) / half)", "dtype=torch.float32) / (half - 1))"
        ),
        "sines and cosines interleaved (the transformer's layout)": _embedding(
            "torch.cat([angles.cos(), angles.sin()], dim=1)",
            "torch.stack([angles.cos(), angles.sin()], dim=-1).reshape(len(t), dim)",
        ),
        "frequencies rising instead of falling": _embedding(
            "torch.exp(-math.log(10000.0)", "torch.exp(math.log(10000.0)"
        ),
        "exponent k / dim (frequencies only down to 10000^-1/2)": _embedding(
            "dtype=torch.float32) / half)", "dtype=torch.float32) / dim)"
        ),
        "float64 embedding": _embedding("torch.float32) / half", "torch.float64) / half").replace(
            "t.float()", "t.double()"
        ),
        "the raw step repeated (no sines and cosines)": (
            "def timestep_embedding(t, dim):\n    return t.float()[:, None].repeat(1, dim)\n"
        ),
        "denoiser fed the raw integer step": _denoiser("3", "t.float()[:, None]"),
        "denoiser fed t / T": _denoiser("3", "t.float()[:, None] / 1000"),
        "denoiser ignores the step": _denoiser("2", "x[:, :0]"),
        "denoiser embeds with the wrong size (hidden instead of time_dim)": _denoiser(
            "2 + hidden", "timestep_embedding(t, self.net[0].in_features - 2)"
        ),
    },
    "q6_train_denoiser": {
        "untrained network (training skipped)": (
            "def train_denoiser(data, alpha_bar, train_steps=TRAIN_STEPS, seed=SEED):\n"
            "    torch.manual_seed(seed)\n"
            "    return Denoiser(128, 32).eval()\n"
            "\n\ndenoiser = train_denoiser(train_points, alpha_bar)\n"
        ),
        "trained to predict the clean point x0": _train(
            "loss = epsilon_loss(network, data[rows], steps, noise, schedule)",
            "loss = ((network(q_sample(data[rows], steps, noise, schedule), steps) - data[rows]) ** 2).mean()",
        ),
        "noised with the betas in place of alpha_bar": _train(
            "epsilon_loss(network, data[rows], steps, noise, schedule)",
            "epsilon_loss(network, data[rows], steps, noise, betas.float())",
        ),
        "only the noisy half of the steps trained (t >= 500)": _train(
            "steps = (u**2 * len(schedule)).long().clamp(max=len(schedule) - 1)",
            "steps = torch.randint(500, len(schedule), (256,), generator=g)",
        ),
        "300 optimizer steps": _train(
            "    for _ in range(train_steps):", "    for _ in range(300):"
        ),
        "learning rate 100 times too small": _train("lr=3e-3", "lr=3e-5"),
    },
}

CORRECT = {
    "q1_forward": {
        "products in a loop, coefficients by view": (
            "def cumulative_alphas(betas):\n"
            "    out, running = torch.empty_like(betas), torch.ones((), dtype=betas.dtype)\n"
            "    for i, beta in enumerate(betas):\n"
            "        running = running * (1 - beta)\n"
            "        out[i] = running\n"
            "    return out\n\n\n"
            "def q_sample(x0, t, noise, alpha_bar):\n"
            "    shape = (x0.shape[0],) + (1,) * (x0.dim() - 1)\n"
            "    signal = torch.sqrt(alpha_bar[t]).view(shape).to(x0.dtype)\n"
            "    spread = torch.sqrt(1 - alpha_bar[t]).view(shape).to(x0.dtype)\n"
            "    return signal * x0 + spread * noise\n"
        ),
        "log-space cumulative sum, einsum over flattened samples": (
            "def cumulative_alphas(betas):\n"
            "    return torch.exp(torch.cumsum(torch.log1p(-betas), dim=0))\n\n\n"
            "def q_sample(x0, t, noise, alpha_bar):\n"
            "    a, b = alpha_bar[t].sqrt(), (1 - alpha_bar[t]).sqrt()\n"
            "    flat = torch.einsum('n,nk->nk', a, x0.reshape(len(x0), -1).double())\n"
            "    flat = flat + torch.einsum('n,nk->nk', b, noise.reshape(len(x0), -1).double())\n"
            "    return flat.reshape(x0.shape).to(x0.dtype)\n"
        ),
    },
    "q2_epsilon_loss": {
        "F.mse_loss on an inline x_t": (
            "def epsilon_loss(model, x0, t, noise, alpha_bar):\n"
            "    bar = alpha_bar[t].reshape(-1, *[1] * (x0.ndim - 1))\n"
            "    x_t = (bar.sqrt() * x0 + (1 - bar).sqrt() * noise).to(x0.dtype)\n"
            "    return torch.nn.functional.mse_loss(model(x_t, t), noise)\n"
        ),
        "sum of squares over the number of elements": (
            "def epsilon_loss(model, x0, t, noise, alpha_bar):\n"
            "    err = model(q_sample(x0, t, noise, alpha_bar), t) - noise\n"
            "    return (err * err).sum() / err.numel()\n"
        ),
    },
    "q3_ddpm_step": {
        "through x0-hat and the posterior mean, alpha_bar_{-1} = 1 and sigma_0 = 0": (
            "def ddpm_step(eps_hat, x_t, t, betas, noise):\n"
            "    bar = torch.cumprod(1 - betas, 0)\n"
            "    bar_prev = bar[t - 1] if t > 0 else torch.ones((), dtype=bar.dtype)\n"
            "    x0 = (x_t - (1 - bar[t]).sqrt() * eps_hat) / bar[t].sqrt()\n"
            "    c0 = bar_prev.sqrt() * betas[t] / (1 - bar[t])\n"
            "    ct = (1 - betas[t]).sqrt() * (1 - bar_prev) / (1 - bar[t])\n"
            "    sigma = ((1 - bar_prev) / (1 - bar[t]) * betas[t]).sqrt()\n"
            "    return c0 * x0 + ct * x_t + sigma * noise\n"
        ),
        "Python floats and math.sqrt": (
            "def ddpm_step(eps_hat, x_t, t, betas, noise):\n"
            "    beta = float(betas[t])\n"
            "    bar = float(torch.prod(1 - betas[: t + 1]))\n"
            "    out = (x_t - beta / math.sqrt(1 - bar) * eps_hat) / math.sqrt(1 - beta)\n"
            "    if t > 0:\n"
            "        bar_prev = bar / (1 - beta)\n"
            "        out = out + math.sqrt(beta * (1 - bar_prev) / (1 - bar)) * noise\n"
            "    return out\n"
        ),
    },
    "q4_ddim_step": {
        "coefficients of x_t and eps_hat directly": (
            "def ddim_step(eps_hat, x_t, t, t_prev, alpha_bar, eta, noise):\n"
            "    a_t = alpha_bar[t]\n"
            "    a_s = alpha_bar[t_prev] if t_prev >= 0 else torch.ones_like(a_t)\n"
            "    var = eta**2 * (1 - a_s) / (1 - a_t) * (1 - a_t / a_s)\n"
            "    coef_x = (a_s / a_t).sqrt()\n"
            "    coef_e = (1 - a_s - var).sqrt() - (a_s * (1 - a_t) / a_t).sqrt()\n"
            "    return coef_x * x_t + coef_e * eps_hat + var.sqrt() * noise\n"
        ),
        "Python floats, no noise term when eta = 0": (
            "def ddim_step(eps_hat, x_t, t, t_prev, alpha_bar, eta, noise):\n"
            "    a_t = float(alpha_bar[t])\n"
            "    a_s = float(alpha_bar[t_prev]) if t_prev >= 0 else 1.0\n"
            "    x0 = (x_t - math.sqrt(1 - a_t) * eps_hat) / math.sqrt(a_t)\n"
            "    s = eta * math.sqrt((1 - a_s) / (1 - a_t) * (1 - a_t / a_s))\n"
            "    out = math.sqrt(a_s) * x0 + math.sqrt(max(1 - a_s - s * s, 0.0)) * eps_hat\n"
            "    return out + s * noise if eta > 0 else out\n"
        ),
    },
    "q5_time_embedding": {
        "complex exponential (torch.polar), a GELU network with LayerNorm": (
            "def timestep_embedding(t, dim):\n"
            "    k = torch.arange(dim // 2, dtype=torch.float32)\n"
            "    omega = 10000.0 ** (-2.0 * k / dim)\n"
            "    turn = torch.polar(torch.ones(len(t), dim // 2), t.float()[:, None] * omega)\n"
            "    return torch.cat([turn.real, turn.imag], dim=1)\n\n\n"
            "class Denoiser(nn.Module):\n"
            "    def __init__(self, hidden=128, time_dim=32):\n"
            "        super().__init__()\n"
            "        self.time_dim = time_dim\n"
            "        self.net = nn.Sequential(\n"
            "            nn.Linear(2 + time_dim, hidden), nn.LayerNorm(hidden), nn.GELU(),\n"
            "            nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 2)\n"
            "        )\n\n"
            "    def forward(self, x, t):\n"
            "        e = timestep_embedding(t, self.time_dim)\n"
            "        return self.net(torch.hstack([x, e]))\n"
        ),
        "NumPy embedding converted to float32": (
            "def timestep_embedding(t, dim):\n"
            "    half = dim // 2\n"
            "    w = np.power(10000.0, -np.arange(half) / half)\n"
            "    a = t.cpu().numpy().astype(np.float64)[:, None] * w[None]\n"
            "    return torch.from_numpy(np.concatenate([np.cos(a), np.sin(a)], 1)).float()\n"
        ),
    },
    "q6_train_denoiser": {
        "steps drawn uniformly on 0..299 (the scored range), AdamW": _train(
            "steps = (u**2 * len(schedule)).long().clamp(max=len(schedule) - 1)",
            "steps = torch.randint(0, 300, (256,), generator=g)",
        ).replace("torch.optim.Adam(", "torch.optim.AdamW("),
    },
}
