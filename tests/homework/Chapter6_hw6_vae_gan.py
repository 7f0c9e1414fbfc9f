"""Plausible wrong answers to Chapter6/hw6_vae_gan.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

_TRAIN_HEAD = (
    "def train_vae(x, epochs=EPOCHS, seed=SEED):\n"
    "    torch.manual_seed(seed)\n"
    "    model = VAE().to(device)\n"
    "    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)\n"
    "    loader = torch.utils.data.DataLoader(x, batch_size=64, shuffle=True)\n"
    "    for _ in range(epochs):\n"
    "        for batch in loader:\n"
    "            batch = batch.to(device)\n"
    "            mu, logvar = model.encode(batch)\n"
)
_TRAIN_TAIL = (
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "    return model.cpu().eval()\n"
    "\n"
    "vae = train_vae(x_train)\n"
)


def _train(loss_lines: str, epochs: str = "EPOCHS") -> str:
    return _TRAIN_HEAD.replace("epochs=EPOCHS", f"epochs={epochs}") + loss_lines + _TRAIN_TAIL


def _negative_elbo(body: str) -> str:
    return "def negative_elbo(x, logits, mu, logvar):\n" + body


MISTAKES = {
    "q1_reparameterize": {
        "log-variance treated as the standard deviation": (
            "def sample_latent(mu, logvar):\n    return mu + logvar * torch.randn_like(mu)\n"
        ),
        "variance used as the standard deviation": (
            "def sample_latent(mu, logvar):\n"
            "    return mu + torch.exp(logvar) * torch.randn_like(mu)\n"
        ),
        "sampled without reparameterization (no gradient to the encoder)": (
            "def sample_latent(mu, logvar):\n"
            "    return torch.normal(mu.detach(), torch.exp(0.5 * logvar).detach())\n"
        ),
        "Normal(...).sample() instead of rsample()": (
            "def sample_latent(mu, logvar):\n"
            "    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()\n"
        ),
        "noise detached with the scale (gradient to mu only)": (
            "def sample_latent(mu, logvar):\n"
            "    return mu + (torch.exp(0.5 * logvar) * torch.randn_like(mu)).detach()\n"
        ),
        "one noise draw shared by the whole batch": (
            "def sample_latent(mu, logvar):\n"
            "    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu[:1])\n"
        ),
    },
    "q2_gaussian_kl": {
        "wrong sign": (
            "def gaussian_kl(mu, logvar):\n"
            "    return -0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)\n"
        ),
        "missing the factor 1/2": (
            "def gaussian_kl(mu, logvar):\n"
            "    return (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)\n"
        ),
        "log-variance treated as the standard deviation": (
            "def gaussian_kl(mu, logvar):\n"
            "    return 0.5 * (mu**2 + logvar**2 - 1.0 - torch.log(logvar**2)).sum(dim=1)\n"
        ),
        "mean over latent units instead of the sum": (
            "def gaussian_kl(mu, logvar):\n"
            "    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).mean(dim=1)\n"
        ),
        "the popular sign slip: + log sigma^2": (
            "def gaussian_kl(mu, logvar):\n"
            "    return 0.5 * (mu**2 + logvar.exp() - 1.0 + logvar).sum(dim=1)\n"
        ),
        "one number for the batch": (
            "def gaussian_kl(mu, logvar):\n"
            "    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum()\n"
        ),
    },
    "q3_negative_elbo": {
        "reconstruction summed over the batch, KL averaged": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='sum')\n"
            "    return reconstruction + gaussian_kl(mu, logvar).mean()\n"
        ),
        "reconstruction averaged over pixels and batch, KL summed per example": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy_with_logits(logits, x)\n"
            "    return reconstruction + gaussian_kl(mu, logvar).mean()\n"
        ),
        "KL summed over the batch": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)\n"
            "    return reconstruction.mean() + gaussian_kl(mu, logvar).sum()\n"
        ),
        "the ELBO instead of its negative": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)\n"
            "    return -(reconstruction + gaussian_kl(mu, logvar)).mean()\n"
        ),
        "KL subtracted": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)\n"
            "    return (reconstruction - gaussian_kl(mu, logvar)).mean()\n"
        ),
        "squared error instead of the Bernoulli likelihood": _negative_elbo(
            "    reconstruction = ((torch.sigmoid(logits) - x) ** 2).sum(1)\n"
            "    return (reconstruction + gaussian_kl(mu, logvar)).mean()\n"
        ),
        "logits treated as probabilities": _negative_elbo(
            "    reconstruction = F.binary_cross_entropy(logits.clamp(1e-6, 1 - 1e-6), x, reduction='none').sum(1)\n"
            "    return (reconstruction + gaussian_kl(mu, logvar)).mean()\n"
        ),
    },
    "q4_train_vae": {
        "decoded the mean (no sampling: an autoencoder with a KL penalty)": _train(
            "            loss = negative_elbo(batch, model.decoder(mu), mu, logvar)\n"
        ),
        "no KL term (a plain autoencoder)": _train(
            "            z = sample_latent(mu, logvar)\n"
            "            loss = F.binary_cross_entropy_with_logits(model.decoder(z), batch, reduction='none').sum(1).mean()\n"
        ),
        "reconstruction summed over the batch, KL averaged": _train(
            "            z = sample_latent(mu, logvar)\n"
            "            loss = F.binary_cross_entropy_with_logits(model.decoder(z), batch, reduction='sum')"
            " + gaussian_kl(mu, logvar).mean()\n"
        ),
        "one epoch": _train(
            "            loss = negative_elbo(batch, model.decoder(sample_latent(mu, logvar)), mu, logvar)\n",
            epochs="1",
        ),
    },
    "q5_gan_losses": {
        "non-saturating asked, saturating returned": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    return F.logsigmoid(-fake_logits).mean()\n"
        ),
        "generator trained on the discriminator's loss (negated) for both forms": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    return -discriminator_loss(torch.zeros(1), fake_logits) - math.log(2.0)\n"
        ),
        "non-saturating with the wrong sign (log D)": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    if saturating:\n"
            "        return F.logsigmoid(-fake_logits).mean()\n"
            "    return F.logsigmoid(fake_logits).mean()\n"
        ),
        "labels swapped in the discriminator loss": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -F.logsigmoid(-real_logits).mean() - F.logsigmoid(fake_logits).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    if saturating:\n"
            "        return F.logsigmoid(-fake_logits).mean()\n"
            "    return -F.logsigmoid(fake_logits).mean()\n"
        ),
        "unstable log of sigmoid": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -torch.log(torch.sigmoid(real_logits)).mean()"
            " - torch.log(1 - torch.sigmoid(fake_logits)).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    if saturating:\n"
            "        return torch.log(1 - torch.sigmoid(fake_logits)).mean()\n"
            "    return -torch.log(torch.sigmoid(fake_logits)).mean()\n"
        ),
        "real and fake terms pooled into one mean": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return -torch.cat([F.logsigmoid(real_logits), F.logsigmoid(-fake_logits)]).mean()\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    if saturating:\n"
            "        return F.logsigmoid(-fake_logits).mean()\n"
            "    return -F.logsigmoid(fake_logits).mean()\n"
        ),
    },
    "q6_discriminator_step": {
        "detached the real images instead of the fakes": (
            "def discriminator_step_loss(discriminator, generator, real, z):\n"
            "    fake = generator(z)\n"
            "    return discriminator_loss(discriminator(real.detach()).flatten(),"
            " discriminator(fake).flatten())\n"
        ),
        "nothing detached": (
            "def discriminator_step_loss(discriminator, generator, real, z):\n"
            "    return discriminator_loss(discriminator(real).flatten(),"
            " discriminator(generator(z)).flatten())\n"
        ),
        "real and fake swapped": (
            "def discriminator_step_loss(discriminator, generator, real, z):\n"
            "    fake = generator(z).detach()\n"
            "    return discriminator_loss(discriminator(fake).flatten(), discriminator(real).flatten())\n"
        ),
        "the discriminator's output detached too (nothing learns)": (
            "def discriminator_step_loss(discriminator, generator, real, z):\n"
            "    with torch.no_grad():\n"
            "        fake = generator(z)\n"
            "        real_logits, fake_logits = discriminator(real).flatten(), discriminator(fake).flatten()\n"
            "    return discriminator_loss(real_logits, fake_logits).requires_grad_()\n"
        ),
    },
}

CORRECT = {
    "q1_reparameterize": {
        "std from sqrt(exp) and torch.randn": (
            "def sample_latent(mu, logvar):\n"
            "    return mu + torch.sqrt(torch.exp(logvar)) * torch.randn(mu.shape)\n"
        ),
        "rsample": (
            "def sample_latent(mu, logvar):\n"
            "    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()\n"
        ),
    },
    "q2_gaussian_kl": {
        "torch.distributions": (
            "def gaussian_kl(mu, logvar):\n"
            "    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))\n"
            "    return torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)\n"
        ),
    },
    "q3_negative_elbo": {
        "log-sigmoid written out": _negative_elbo(
            "    log_px = (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(-1)\n"
            "    return torch.mean(gaussian_kl(mu, logvar) - log_px)\n"
        ),
    },
    "q5_gan_losses": {
        "with binary_cross_entropy_with_logits": (
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    bce = F.binary_cross_entropy_with_logits\n"
            "    return bce(real_logits, torch.ones_like(real_logits))"
            " + bce(fake_logits, torch.zeros_like(fake_logits))\n"
            "\n"
            "def generator_loss(fake_logits, saturating=False):\n"
            "    bce = F.binary_cross_entropy_with_logits\n"
            "    if saturating:\n"
            "        return -bce(fake_logits, torch.zeros_like(fake_logits))\n"
            "    return bce(fake_logits, torch.ones_like(fake_logits))\n"
        ),
    },
    "q6_discriminator_step": {
        "generator run under no_grad": (
            "def discriminator_step_loss(discriminator, generator, real, z):\n"
            "    with torch.no_grad():\n"
            "        fake = generator(z)\n"
            "    return discriminator_loss(discriminator(real).view(-1), discriminator(fake).view(-1))\n"
        ),
    },
}
