"""The PyTorch eager reference of `runner bench` (README "Speed").

The same workloads as runner's rows, timed by the same rules: flow-matching training steps per
second and Euler sampling throughput at each size of the plan, and the rate of an n x n float32
matmul. `runner bench` runs this file (compiled into the binary) with `python -c`, passes the
plan as JSON, and reads the JSON this prints on stdout. To run it by hand, take the plan from a
report: `runner bench --out bench.json`, then
`python3 scripts/bench/pytorch_reference.py --plan "$(python3 -c 'import json; print(json.dumps(json.load(open("bench.json"))["plan"]))')" --threads 2`.
"""

import argparse
import json
import math
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True, help="the bench plan as JSON (runner's bench::Plan)")
    parser.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    args = parser.parse_args()
    plan = json.loads(args.plan)
    try:
        import torch
    except ImportError as e:
        sys.exit(f"torch is not importable from {sys.executable}: {e}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bench = Bench(torch, plan)
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        # The vector instructions ATen's kernels dispatch to, and the BLAS behind torch.mm.
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "blas": "MKL" if torch.backends.mkl.is_available() else "not MKL",
        "peak_gflops": bench.peak_gflops(),
        "train": {case["name"]: bench.train_rate(case) for case in plan["train"]},
        "sample": {case["name"]: bench.sample_rate(case) for case in plan["sample"]},
    }
    json.dump(result, sys.stdout)
    print()


class Bench:
    def __init__(self, torch, plan):
        self.torch = torch
        self.plan = plan
        # 8gaussians as src/data/eight_gaussians.rs defines it (BENCHMARKS.md section 1): centres
        # at angles k * 45 degrees on a circle of radius 5, standard deviation 1.
        angles = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
        self.centres = (5.0 * torch.stack([angles.cos(), angles.sin()], 1)).float()
        self.std = 1.0

    def repetitions(self, units, seconds, per_rep, minimum):
        """How many repetitions of per_rep units fill plan["seconds"], after a warm-up that did
        `units` in `seconds` (bench::Plan::repetitions)."""
        per_second = units / max(seconds, 1e-9)
        return max(math.ceil(self.plan["seconds"] * per_second / per_rep), minimum)

    def mlp(self, width):
        """Linear(dim + 1, width), SiLU, (Linear(width, width), SiLU) x (depth - 1),
        Linear(width, dim): runner's Mlp with raw time, PyTorch's default initialisation."""
        nn = self.torch.nn
        dim, depth = self.plan["dim"], self.plan["depth"]
        sizes = [dim + 1] + [width] * depth + [dim]
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.SiLU()]
        return nn.Sequential(*layers[:-1])

    def eight_gaussians(self, n):
        k = self.torch.randint(0, 8, (n,))
        return self.centres[k] + self.std * self.torch.randn(n, 2)

    def train(self, case, steps):
        """Seconds for one training run, as runner's train() does one: a fresh model and Adam,
        then per step a fresh batch (standard normal x0, 8gaussians x1, t ~ U(0, 1)), the
        conditional-OT path x_t = t x1 + (1 - t) x0, the velocity target x1 - x0, the mean
        squared error, a step, and the loss read back (runner reads it every step)."""
        torch, batch = self.torch, case["batch"]
        start = time.perf_counter()
        model = self.mlp(case["width"])
        optim = torch.optim.Adam(model.parameters(), lr=self.plan["lr"])
        for _ in range(steps):
            x1 = self.eight_gaussians(batch)
            x0 = torch.randn(batch, 2)
            t = torch.rand(batch, 1)
            xt = t * x1 + (1 - t) * x0
            loss = (model(torch.cat([xt, t], 1)) - (x1 - x0)).pow(2).mean()
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            loss.item()
        return time.perf_counter() - start

    def best_of(self, rate):
        """The highest of plan["rounds"] measured rates (bench::measure::best_of)."""
        return max(rate() for _ in range(max(self.plan["rounds"], 1)))

    def train_rate(self, case):
        warmup = self.plan["warmup_steps"]
        steps = self.repetitions(warmup, self.train(case, warmup), 1, max(self.plan["min_steps"], 1))
        return self.best_of(lambda: steps / self.train(case, steps))

    def sample(self, model, x0, nfe):
        """Seconds for Euler with nfe uniform steps from t = 0 to 1, as runner's sample() does."""
        torch = self.torch
        start = time.perf_counter()
        with torch.no_grad():
            x = x0.clone()
            t = torch.empty(x.shape[0], 1)
            for i in range(nfe):
                v = model(torch.cat([x, t.fill_(i / nfe)], 1))
                x = x + v / nfe
        return time.perf_counter() - start

    def sample_rate(self, case):
        model = self.mlp(case["width"])
        x0 = self.torch.randn(case["points"], self.plan["dim"])
        warmup = max(self.plan["warmup_nfe"], 1)
        reps = self.repetitions(warmup, self.sample(model, x0, warmup), case["nfe"], 1)
        return self.best_of(
            lambda: reps * case["points"] / sum(self.sample(model, x0, case["nfe"]) for _ in range(reps))
        )

    def peak_gflops(self):
        """GFLOP/s of an n x n by n x n float32 torch.mm: one warm-up, the fastest of peak_reps."""
        torch, n = self.torch, self.plan["peak_size"]
        a, b = torch.rand(n, n), torch.rand(n, n)
        torch.mm(a, b)
        best = math.inf
        for _ in range(max(self.plan["peak_reps"], 1)):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        return 2 * n**3 / best / 1e9


if __name__ == "__main__":
    main()
