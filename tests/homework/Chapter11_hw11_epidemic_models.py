"""Plausible wrong answers to Chapter11/hw11_epidemic_models.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

_SIR_HEAD = (
    "def simulate_sir(beta, gamma, susceptible, infected, recovered, days, steps_per_day=1):\n"
    "    beta = torch.as_tensor(beta, dtype=torch.float64)\n"
    "    gamma = torch.as_tensor(gamma, dtype=torch.float64)\n"
    "    s = torch.as_tensor(susceptible, dtype=torch.float64)\n"
    "    i = torch.as_tensor(infected, dtype=torch.float64)\n"
    "    r = torch.as_tensor(recovered, dtype=torch.float64)\n"
    "    n, dt = s + i + r, 1.0 / steps_per_day\n"
    "    rows = [torch.stack([s, i, r])]\n"
    "    for _ in range(days):\n"
    "        for _ in range(steps_per_day):\n"
)
_SIR_TAIL = "        rows.append(torch.stack([s, i, r]))\n    return torch.stack(rows)\n"


def _sir(step: str) -> str:
    return _SIR_HEAD + step + _SIR_TAIL


_FIT = (
    "def fit_sir(cases, population, initial_infected):\n"
    "    cases = torch.as_tensor(cases, dtype=torch.float64)\n"
    "    log_rates = torch.tensor([math.log(0.4), math.log(0.25)], dtype=torch.float64, requires_grad=True)\n"
    "    optimizer = torch.optim.LBFGS([log_rates], max_iter=60, line_search_fn='strong_wolfe')\n"
    "\n"
    "    def closure():\n"
    "        optimizer.zero_grad()\n"
    "        beta, gamma = log_rates.exp()\n"
    "        path = simulate_sir(beta, gamma, population - I0, I0, 0.0, len(cases), 2)\n"
    "        expected = (path[:-1, 0] - path[1:, 0]).clamp_min(1e-9)\n"
    "        loss = (expected - cases * expected.log()).sum() / cases.sum()\n"
    "        loss.backward()\n"
    "        return loss\n"
    "\n"
    "    optimizer.step(closure)\n"
    "    beta, gamma = log_rates.detach().exp().tolist()\n"
    "    return beta, gamma\n"
)


def _fit(old: str = "", new: str = "", i0: str = "initial_infected") -> str:
    text = _FIT.replace("I0", i0)
    if old:
        assert old in text, old
        text = text.replace(old, new)
    return text + "\nbeta_hat, gamma_hat = fit_sir(cases, POPULATION, INITIAL_INFECTED)\n"


_PROPAGATION = (
    "def propagation_matrix(adjacency):\n"
    "    a_tilde = adjacency + torch.eye(adjacency.shape[0], dtype=adjacency.dtype)\n"
    "    scale = a_tilde.sum(1).rsqrt()\n"
    "    return scale[:, None] * a_tilde * scale[None, :]\n\n"
)
_CELL = (
    "def graph_gru_cell(x, h, adjacency, gate_weight, gate_bias, candidate_weight, candidate_bias):\n"
    "    a_hat = propagation_matrix(adjacency).to(x.dtype)\n"
    "    gates = torch.sigmoid(a_hat @ torch.cat([x, h], dim=-1) @ gate_weight.T + gate_bias)\n"
    "    z, r = gates.split(h.shape[-1], dim=-1)\n"
    "    candidate = torch.tanh(a_hat @ torch.cat([x, r * h], dim=-1) @ candidate_weight.T + candidate_bias)\n"
    "    return z * h + (1 - z) * candidate\n"
)


def _graph(propagation: str = _PROPAGATION, old: str = "", new: str = "") -> str:
    cell = _CELL
    if old:
        assert old in cell, old
        cell = cell.replace(old, new)
    return propagation + cell


_WIS = (
    "def weighted_interval_score(observed, quantiles, levels):\n"
    "    y = np.asarray(observed, dtype=float)\n"
    "    q = np.asarray(quantiles, dtype=float)\n"
    "    levels = np.asarray(levels, dtype=float)\n"
    "    if (np.diff(q, axis=1) < 0).any():\n"
    "        raise ValueError('quantiles cross')\n"
    "    k = len(levels) // 2\n"
    "    total = 0.5 * np.abs(y - q[:, k])\n"
    "    for j in range(k):\n"
    "        alpha, lower, upper = 2 * levels[j], q[:, j], q[:, -1 - j]\n"
    "        penalty = 2 / alpha * (np.maximum(lower - y, 0) + np.maximum(y - upper, 0))\n"
    "        total = total + alpha / 2 * (upper - lower + penalty)\n"
    "    return total / (k + 0.5)\n"
)


def _wis(old: str, new: str) -> str:
    assert old in _WIS, old
    return _WIS.replace(old, new)


_FORECAST = (
    "def rolling_forecasts(series, first_origin):\n"
    "    lags = LAGS\n"
    "    longest = max(lags)\n"
    "    rows = []\n"
    "    for t in range(first_origin, series.shape[0]):\n"
    "        past = series[:t]\n"
    "        features = np.stack([past[longest - lag : t - lag] for lag in lags], axis=-1)\n"
    "        design = np.concatenate([np.ones((*features.shape[:2], 1)), features], axis=-1)\n"
    "        design, target = design.reshape(-1, len(lags) + 1), past[longest:].ravel()\n"
    "        weights = np.linalg.lstsq(design, target, rcond=None)[0]\n"
    "        residuals = target - design @ weights\n"
    "        latest = np.column_stack([np.ones(past.shape[1])] + [past[-lag] for lag in lags])\n"
    "        rows.append((latest @ weights)[:, None] + np.quantile(residuals, LEVELS)[None])\n"
    "    return np.array(rows)\n"
)
_FORECAST_RUN = (
    "\nforecasts = rolling_forecasts(surveillance, FIRST_ORIGIN)\n"
    "model_wis = mean_wis(surveillance, FIRST_ORIGIN, forecasts)\n"
)


def _forecast(body: str = _FORECAST, lags: str = "(1, 2, 52, 53)", old: str = "", new: str = ""):
    if old:
        assert old in body, old
        body = body.replace(old, new)
    return body.replace("LAGS", lags) + _FORECAST_RUN


# Ridge on standardized values (no intercept): a model whose forecasts depend on the scale,
# so statistics computed over the whole series leak into every forecast.
_RIDGE_FULL_STATS = (
    "def rolling_forecasts(series, first_origin):\n"
    "    center, scale = series.mean(), series.std()  # the whole series, future included\n"
    "    z = (series - center) / scale\n"
    "    rows = []\n"
    "    for t in range(first_origin, z.shape[0]):\n"
    "        past = z[:t]\n"
    "        x = np.stack([past[52:-1], past[51:-2], past[1:-52], past[:-53]], -1).reshape(-1, 4)\n"
    "        y = past[53:].ravel()\n"
    "        w = np.linalg.solve(x.T @ x + 50.0 * np.eye(4), x.T @ y)\n"
    "        res = y - x @ w\n"
    "        latest = np.stack([past[-1], past[-2], past[-52], past[-53]], -1)\n"
    "        rows.append(((latest @ w)[:, None] + np.quantile(res, LEVELS)[None]) * scale + center)\n"
    "    return np.array(rows)\n"
)

MISTAKES = {
    "q1_sir_euler": {
        "recoveries subtracted from S (S + I + R not conserved)": _sir(
            "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i, r = s - inf - rec, i + inf - rec, r + rec\n"
        ),
        "R never updated (people vanish)": _sir(
            "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i = s - inf, i + inf - rec\n"
        ),
        "step size applied twice": _sir(
            "            inf, rec = dt * dt * beta * s * i / n, dt * dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
        ),
        "step size not applied (a whole day per step)": _sir(
            "            inf, rec = beta * s * i / n, gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
        ),
        "beta S I without dividing by N (rates for fractions applied to counts)": _sir(
            "            inf, rec = dt * beta * s * i, dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
        ),
        "wrong sign: S grows": _sir(
            "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i, r = s + inf, i + inf - rec, r + rec\n"
        ),
        "sequential update: I uses the new S": _sir(
            "            s = s - dt * beta * s * i / n\n"
            "            inf = dt * beta * s * i / n\n"
            "            rec = dt * gamma * i\n"
            "            i, r = i + inf - rec, r + rec\n"
        ),
        "infections beta I (the factor S / N left out)": _sir(
            "            inf, rec = dt * beta * i, dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
        ),
        "rows for every Euler step, not every day": (
            _SIR_HEAD + "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
            "            rows.append(torch.stack([s, i, r]))\n"
            "    return torch.stack(rows)\n"
        ),
        "detached through float() (no gradient)": (
            "def simulate_sir(beta, gamma, susceptible, infected, recovered, days, steps_per_day=1):\n"
            "    beta, gamma = float(beta), float(gamma)\n"
            "    s, i, r = float(susceptible), float(infected), float(recovered)\n"
            "    n, dt, rows = s + i + r, 1.0 / steps_per_day, [[s, i, r]]\n"
            "    for _ in range(days):\n"
            "        for _ in range(steps_per_day):\n"
            "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n"
            "        rows.append([s, i, r])\n"
            "    return torch.tensor(rows, dtype=torch.float64)\n"
        ),
        "float32 state": (
            _SIR_HEAD.replace("torch.float64", "torch.float32")
            + "            inf, rec = dt * beta * s * i / n, dt * gamma * i\n"
            "            s, i, r = s - inf, i + inf - rec, r + rec\n" + _SIR_TAIL
        ),
    },
    "q2_fit_sir": {
        "only beta optimized (gamma kept at the starting guess)": _fit(
            "optimizer = torch.optim.LBFGS([log_rates]",
            "log_beta = log_rates[:1].detach().clone().requires_grad_(True)\n"
            "    optimizer = torch.optim.LBFGS([log_beta]",
        )
        .replace(
            "beta, gamma = log_rates.exp()\n",
            "beta, gamma = log_beta[0].exp(), torch.tensor(0.25, dtype=torch.float64)\n",
        )
        .replace(
            "beta, gamma = log_rates.detach().exp().tolist()",
            "beta, gamma = log_beta.detach().exp().item(), 0.25",
        ),
        "prevalence I(t) fitted to the daily new cases": _fit(
            "expected = (path[:-1, 0] - path[1:, 0]).clamp_min(1e-9)",
            "expected = path[1:, 1].clamp_min(1e-9)",
        ),
        "cumulative infections fitted to the daily new cases": _fit(
            "expected = (path[:-1, 0] - path[1:, 0]).clamp_min(1e-9)",
            "expected = (path[0, 0] - path[1:, 0]).clamp_min(1e-9)",
        ),
        "initial number infected hard-coded from the notebook's outbreak": _fit(i0="10.0"),
        "returns log beta and log gamma": _fit(
            "beta, gamma = log_rates.detach().exp().tolist()",
            "beta, gamma = log_rates.detach().tolist()",
        ),
        "returns tensors": _fit(
            "beta, gamma = log_rates.detach().exp().tolist()",
            "beta, gamma = log_rates.detach().exp()",
        ),
        "Adam with a tiny learning rate (has not moved in 100 steps)": (
            "def fit_sir(cases, population, initial_infected):\n"
            "    log_rates = torch.tensor([math.log(0.4), math.log(0.25)], dtype=torch.float64, requires_grad=True)\n"
            "    optimizer = torch.optim.Adam([log_rates], lr=1e-4)\n"
            "    for _ in range(100):\n"
            "        beta, gamma = log_rates.exp()\n"
            "        path = simulate_sir(beta, gamma, population - initial_infected, initial_infected, 0.0, len(cases), 2)\n"
            "        expected = (path[:-1, 0] - path[1:, 0]).clamp_min(1e-9)\n"
            "        loss = (expected - cases * expected.log()).sum() / cases.sum()\n"
            "        optimizer.zero_grad()\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "    return tuple(log_rates.detach().exp().tolist())\n"
            "\nbeta_hat, gamma_hat = fit_sir(cases, POPULATION, INITIAL_INFECTED)\n"
        ),
        "the notebook's truth returned": (
            "def fit_sir(cases, population, initial_infected):\n    return 0.5, 0.2\n"
            "\nbeta_hat, gamma_hat = fit_sir(cases, POPULATION, INITIAL_INFECTED)\n"
        ),
    },
    "q3_graph_gru_cell": {
        "adjacency not normalized": _graph(
            "def propagation_matrix(adjacency):\n"
            "    return adjacency + torch.eye(adjacency.shape[0], dtype=adjacency.dtype)\n\n"
        ),
        "no self-loops": _graph(
            "def propagation_matrix(adjacency):\n"
            "    scale = adjacency.sum(1).clamp_min(1e-12).rsqrt()\n"
            "    return scale[:, None] * adjacency * scale[None, :]\n\n"
        ),
        "degrees counted without the self-loop": _graph(
            "def propagation_matrix(adjacency):\n"
            "    scale = adjacency.sum(1).clamp_min(1e-12).rsqrt()\n"
            "    a_tilde = adjacency + torch.eye(adjacency.shape[0], dtype=adjacency.dtype)\n"
            "    return scale[:, None] * a_tilde * scale[None, :]\n\n"
        ),
        "row-normalized D^-1 (A + I) instead of the symmetric form": _graph(
            "def propagation_matrix(adjacency):\n"
            "    a_tilde = adjacency + torch.eye(adjacency.shape[0], dtype=adjacency.dtype)\n"
            "    return a_tilde / a_tilde.sum(1, keepdim=True)\n\n"
        ),
        "unweighted: edge weights replaced by 1": _graph(
            "def propagation_matrix(adjacency):\n"
            "    a_tilde = (adjacency > 0).to(adjacency.dtype) + torch.eye(adjacency.shape[0], dtype=adjacency.dtype)\n"
            "    scale = a_tilde.sum(1).rsqrt()\n"
            "    return scale[:, None] * a_tilde * scale[None, :]\n\n"
        ),
        "update and reset gates swapped": _graph(old="z, r = gates", new="r, z = gates"),
        "update convention reversed: h' = (1 - z) h + z c": _graph(
            old="return z * h + (1 - z) * candidate", new="return (1 - z) * h + z * candidate"
        ),
        "reset gate applied after the convolution": _graph(
            old="torch.cat([x, r * h], dim=-1) @ candidate_weight.T + candidate_bias)",
            new="torch.cat([x, h], dim=-1) @ candidate_weight.T * torch.cat([torch.ones_like(r), r], -1)[..., : candidate_weight.shape[0]] + candidate_bias)",
        ),
        "no graph convolution in the candidate": _graph(
            old="torch.tanh(a_hat @ torch.cat([x, r * h]", new="torch.tanh(torch.cat([x, r * h]"
        ),
        "weights not transposed (nn.Linear layout misread)": _graph(
            old="@ gate_weight.T + gate_bias",
            new="@ gate_weight.reshape(gate_weight.shape[1], -1) + gate_bias",
        ),
    },
    "q4_interval_score": {
        "intervals weighted by alpha instead of alpha / 2": _wis(
            "total = total + alpha / 2 *", "total = total + alpha *"
        ),
        "median term missing": _wis("total = 0.5 * np.abs(y - q[:, k])", "total = 0.0 * y"),
        "normalized by K instead of K + 1/2": _wis("return total / (k + 0.5)", "return total / k"),
        "normalized by the number of quantiles 2K + 1": _wis(
            "return total / (k + 0.5)", "return total / (2 * k + 1)"
        ),
        "penalty 1/alpha instead of 2/alpha": _wis(
            "penalty = 2 / alpha *", "penalty = 1 / alpha *"
        ),
        "alpha taken as the lower level itself": _wis(
            "alpha, lower, upper = 2 * levels[j]", "alpha, lower, upper = levels[j]"
        ),
        "median weight 1 instead of 1/2": _wis("total = 0.5 * np.abs", "total = 1.0 * np.abs"),
        "crossing quantiles sorted silently": _wis(
            "    if (np.diff(q, axis=1) < 0).any():\n        raise ValueError('quantiles cross')\n",
            "    q = np.sort(q, axis=1)\n",
        ),
        "no check for crossing quantiles": _wis(
            "    if (np.diff(q, axis=1) < 0).any():\n        raise ValueError('quantiles cross')\n",
            "",
        ),
        "ties treated as crossing": _wis("(np.diff(q, axis=1) < 0)", "(np.diff(q, axis=1) <= 0)"),
        "one mean score instead of one per forecast": _wis(
            "return total / (k + 0.5)", "return np.mean(total / (k + 0.5))"
        ),
        "the interval's width without the miss penalties": _wis(
            "(upper - lower + penalty)", "(upper - lower)"
        ),
    },
    "q5_rolling_forecast": {
        "fitted once on the whole series (the future in training)": _forecast(
            old="        past = series[:t]\n", new="        past = series\n"
        )
        .replace(
            "latest = np.column_stack([np.ones(past.shape[1])] + [past[-lag] for lag in lags])",
            "latest = np.column_stack([np.ones(past.shape[1])] + [series[t - lag] for lag in lags])",
        )
        .replace("[longest - lag : t - lag]", "[longest - lag : len(past) - lag]"),
        "random train/test split of the time points": (
            "def rolling_forecasts(series, first_origin):\n"
            "    lags = (1, 2, 52, 53)\n"
            "    x = np.stack([series[53 - lag : len(series) - lag] for lag in lags], -1)\n"
            "    x = np.concatenate([np.ones((*x.shape[:2], 1)), x], -1).reshape(-1, 5)\n"
            "    y = series[53:].ravel()\n"
            "    train = np.random.default_rng(0).random(len(y)) < 0.8\n"
            "    w = np.linalg.lstsq(x[train], y[train], rcond=None)[0]\n"
            "    res = y[train] - x[train] @ w\n"
            "    rows = []\n"
            "    for t in range(first_origin, series.shape[0]):\n"
            "        latest = np.column_stack([np.ones(series.shape[1])] + [series[t - lag] for lag in lags])\n"
            "        rows.append((latest @ w)[:, None] + np.quantile(res, LEVELS)[None])\n"
            "    return np.array(rows)\n" + _FORECAST_RUN
        ),
        "normalized with the mean and sd of the whole series": _RIDGE_FULL_STATS + _FORECAST_RUN,
        "off by one: the forecast of week t sees week t": _forecast(
            old="        past = series[:t]\n", new="        past = series[: t + 1]\n"
        ).replace("[longest - lag : t - lag]", "[longest - lag : t + 1 - lag]"),
        "residual quantiles from the forecast period": _forecast(
            old="np.quantile(residuals, LEVELS)",
            new="np.quantile(series[first_origin:] - series[first_origin - 1 : -1], LEVELS)",
        ),
        "quantiles in descending order (they cross)": _forecast(
            old="np.quantile(residuals, LEVELS)[None]",
            new="np.quantile(residuals, LEVELS[::-1])[None]",
        ),
        "point forecast for every quantile (no interval)": _forecast(
            old="np.quantile(residuals, LEVELS)[None]", new="np.zeros((1, len(LEVELS)))"
        ),
        "last week only (persistence with a slope)": _forecast(lags="(1,)"),
        "seasonal lag only": _forecast(lags="(52,)"),
        "seasonal naive submitted": (
            "def rolling_forecasts(series, first_origin):\n"
            "    return baseline_forecasts(series, first_origin, 52)\n" + _FORECAST_RUN
        ),
    },
}

CORRECT = {
    "q1_sir_euler": {
        "state vector and a flow matrix": (
            "def simulate_sir(beta, gamma, susceptible, infected, recovered, days, steps_per_day=1):\n"
            "    y = torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in (susceptible, infected, recovered)])\n"
            "    n = y.sum()\n"
            "    h = 1 / steps_per_day\n"
            "    move = torch.tensor([[-1.0, 0.0], [1.0, -1.0], [0.0, 1.0]], dtype=torch.float64)\n"
            "    out = [y]\n"
            "    for step in range(1, days * steps_per_day + 1):\n"
            "        flows = torch.stack([beta * y[0] * y[1] / n, gamma * y[1] + 0 * y[0]])\n"
            "        y = y + h * (move @ flows.to(torch.float64))\n"
            "        if step % steps_per_day == 0:\n"
            "            out.append(y)\n"
            "    return torch.stack(out)\n"
        ),
        "fractions inside, counts outside": (
            "def simulate_sir(beta, gamma, susceptible, infected, recovered, days, steps_per_day=1):\n"
            "    total = float(susceptible) + float(infected) + float(recovered)\n"
            "    s = torch.tensor(float(susceptible) / total, dtype=torch.float64)\n"
            "    i = torch.tensor(float(infected) / total, dtype=torch.float64)\n"
            "    path = [(s, i)]\n"
            "    for _ in range(days):\n"
            "        for _ in range(steps_per_day):\n"
            "            ds = -beta * s * i\n"
            "            di = beta * s * i - gamma * i\n"
            "            s, i = s + ds / steps_per_day, i + di / steps_per_day\n"
            "        path.append((s, i))\n"
            "    s_all = torch.stack([p[0] for p in path]) * total\n"
            "    i_all = torch.stack([p[1] for p in path]) * total\n"
            "    return torch.stack([s_all, i_all, total - s_all - i_all], dim=1)\n"
        ),
    },
    "q2_fit_sir": {
        "L-BFGS on log R0 and log gamma with poisson_nll_loss": (
            "def fit_sir(cases, population, initial_infected):\n"
            "    y = torch.as_tensor(cases, dtype=torch.float64)\n"
            "    theta = torch.tensor([math.log(2.0), math.log(0.2)], dtype=torch.float64, requires_grad=True)\n"
            "    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=100, tolerance_grad=1e-10, line_search_fn='strong_wolfe')\n"
            "\n"
            "    def loss_fn():\n"
            "        opt.zero_grad()\n"
            "        gamma = theta[1].exp()\n"
            "        beta = theta[0].exp() * gamma\n"
            "        s = simulate_sir(beta, gamma, population - initial_infected, initial_infected, 0, y.numel(), steps_per_day=2)[:, 0]\n"
            "        mu = (s[:-1] - s[1:]).clamp_min(1e-9)\n"
            "        loss = torch.nn.functional.poisson_nll_loss(mu, y, log_input=False, eps=1e-12)\n"
            "        loss.backward()\n"
            "        return loss\n"
            "\n"
            "    opt.step(loss_fn)\n"
            "    r0, gamma = theta.detach().exp().tolist()\n"
            "    return r0 * gamma, gamma\n"
            "\nbeta_hat, gamma_hat = fit_sir(cases, POPULATION, INITIAL_INFECTED)\n"
        ),
    },
    "q3_graph_gru_cell": {
        "degree matrix and functional.linear": (
            "def propagation_matrix(adjacency):\n"
            "    a = adjacency + torch.diag(torch.ones(len(adjacency), dtype=adjacency.dtype))\n"
            "    d = torch.diag(a.sum(dim=0) ** -0.5)\n"
            "    return d @ a @ d\n"
            "\n"
            "def graph_gru_cell(x, h, adjacency, gate_weight, gate_bias, candidate_weight, candidate_bias):\n"
            "    p = propagation_matrix(adjacency.to(x.dtype))\n"
            "    hidden = h.shape[-1]\n"
            "    xh = torch.einsum('ij,bjf->bif', p, torch.cat((x, h), -1))\n"
            "    z = torch.sigmoid(torch.nn.functional.linear(xh, gate_weight[:hidden], gate_bias[:hidden]))\n"
            "    r = torch.sigmoid(torch.nn.functional.linear(xh, gate_weight[hidden:], gate_bias[hidden:]))\n"
            "    xrh = torch.einsum('ij,bjf->bif', p, torch.cat((x, r * h), -1))\n"
            "    c = torch.tanh(torch.nn.functional.linear(xrh, candidate_weight, candidate_bias))\n"
            "    return c + z * (h - c)\n"
        ),
    },
    "q4_interval_score": {
        "twice the mean quantile loss, in torch": (
            "def weighted_interval_score(observed, quantiles, levels):\n"
            "    q = torch.as_tensor(np.asarray(quantiles, dtype=float))\n"
            "    y = torch.as_tensor(np.asarray(observed, dtype=float))\n"
            "    tau = torch.tensor(levels, dtype=torch.float64)\n"
            "    if not torch.all(q[:, 1:] >= q[:, :-1]):\n"
            "        raise ValueError('quantiles must not decrease along the levels')\n"
            "    e = y[:, None] - q\n"
            "    return (2 * torch.where(e >= 0, tau * e, (tau - 1) * e).mean(1)).numpy()\n"
        ),
        "interval by interval, with the alphas listed": (
            "def weighted_interval_score(observed, quantiles, levels):\n"
            "    q, y = np.array(quantiles, float), np.array(observed, float)\n"
            "    for a, b in zip(q.T[:-1], q.T[1:]):\n"
            "        if np.any(b < a):\n"
            "            raise ValueError('crossing')\n"
            "    K = (len(levels) - 1) // 2\n"
            "    alphas = [2 * levels[k] for k in range(K)]\n"
            "    score = np.abs(y - q[:, K]) / 2\n"
            "    for k, a in enumerate(alphas):\n"
            "        l, u = q[:, k], q[:, len(levels) - 1 - k]\n"
            "        IS = (u - l) + (2 / a) * (l - y) * (y < l) + (2 / a) * (y - u) * (y > u)\n"
            "        score += a / 2 * IS\n"
            "    return score / (K + 0.5)\n"
        ),
    },
    "q5_rolling_forecast": {
        "ridge AR on statistics of the past only, Gaussian quantiles": (
            "from scipy.stats import norm as normal_q5\n"
            "\n"
            "def rolling_forecasts(series, first_origin):\n"
            "    out = np.empty((series.shape[0] - first_origin, series.shape[1], len(LEVELS)))\n"
            "    for k, t in enumerate(range(first_origin, series.shape[0])):\n"
            "        past = series[:t]\n"
            "        mu, sd = past.mean(), past.std()\n"
            "        z = (past - mu) / sd\n"
            "        x = np.stack([z[52:-1], z[51:-2], z[1:-52], z[:-53]], -1).reshape(-1, 4)\n"
            "        y = z[53:].ravel()\n"
            "        w = np.linalg.solve(x.T @ x + 1.0 * np.eye(4), x.T @ y)\n"
            "        sigma = (y - x @ w).std()\n"
            "        mean = np.stack([z[-1], z[-2], z[-52], z[-53]], -1) @ w\n"
            "        out[k] = (mean[:, None] + normal_q5.ppf(LEVELS)[None] * sigma) * sd + mu\n"
            "    return out\n" + _FORECAST_RUN
        ),
        "more lags": _forecast(lags="(1, 2, 3, 51, 52, 53)"),
    },
}
