"""Run configs: YAML in, validated pydantic models out, errors that name file and key."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from specs_vl.evaluation.stats import FindingsSettings
from specs_vl.evaluation.suites import SUITES, is_suite
from specs_vl.models.loading import ImageSettings, Loading
from specs_vl.models.requests import greedy_n_problem
from specs_vl.models.vllm_settings import VLLMEngineSettings
from specs_vl.recipe.coldstart_config import VERDICT_SUITES, ColdstartConfig
from specs_vl.recipe.distill_config import DistillConfig
from specs_vl.recipe.rl_config import RLConfig
from specs_vl.recipe.tune_lr_config import TuneLRSettings
from specs_vl.recipe.tune_rl_config import TuneRLSettings
from specs_vl.recipe.zero_config import ZeroConfig
from specs_vl.training.passthrough import check_trainer_kwargs
from specs_vl.util.errors import ConfigError
from specs_vl.world.base_config import BaseModelConfig
from specs_vl.world.dataset import WorldConfig

M = TypeVar("M", bound=BaseModel)


class EvalSettings(VLLMEngineSettings):
    """How the pipeline evaluates every model. Sampled (T=1) with several samples, for pass@k and RBF."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    suites: list[str] = ["world-id", "world-ood"]
    """suites every model is evaluated on: names or data:PATH"""
    n: int | None = Field(None, ge=1)
    """prompts per suite; None = all"""
    samples: int = Field(4, ge=1)
    """responses per prompt"""
    ks: list[int] = [1, 4]
    """k values of pass@k"""
    temperature: float = Field(1.0, ge=0)
    """sampling temperature"""
    max_new_tokens: int = Field(64, ge=1)
    """response length limit (tokens)"""
    batch_size: int = Field(64, ge=1)
    """prompts per sampling batch"""
    seed: int = 0
    """sampling seed"""
    backend: Literal["auto", "hf", "vllm"] = "auto"
    """vllm: no RBF (it needs the logits)"""
    suite_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """e.g. {"mathvista": {"path": ...}}"""

    @model_validator(mode="after")
    def _check(self) -> EvalSettings:

        unknown = [s for s in self.suites if not is_suite(s)]
        if unknown:
            raise ValueError(f"unknown suite(s) {unknown}; known: {sorted(SUITES)}, or data:PATH for your own data")
        problem = greedy_n_problem(self.temperature, self.samples)
        if problem:
            raise ValueError(problem)
        if any(k < 1 or k > self.samples for k in self.ks):
            raise ValueError(f"every k in ks must be between 1 and samples={self.samples}, got {self.ks}")
        return self


class LauncherSettings(BaseModel):
    """How `specs pipeline` starts the training stages (zero, coldstart, rl).

    Unset: in the pipeline's own process. With a config file or several
    processes: each stage as `accelerate launch [--config_file F]
    [--num_processes N] -m specs_vl.cli STAGE ...`, e.g. DeepSpeed ZeRO-3 on
    8 GPUs for a 7B model (configs/accelerate/deepspeed_zero3.yaml).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    config_file: str | None = None
    """an accelerate config (configs/accelerate/*.yaml)"""
    num_processes: int | None = Field(None, ge=1)
    """overrides the accelerate config's num_processes (all machines together, as accelerate counts)"""
    num_machines: int | None = Field(None, ge=1)
    """nodes; run `specs pipeline` on each with its own machine_rank"""
    machine_rank: int | None = Field(None, ge=0)
    """this node's rank, 0 on the main node (override per node: launcher.machine_rank=1)"""
    main_process_ip: str | None = None
    """the main node's address, which every node must reach"""
    main_process_port: int | None = Field(None, ge=1, le=65535)
    """the main node's rendezvous port"""

    @model_validator(mode="after")
    def _nodes(self) -> LauncherSettings:
        if (self.num_machines or 1) > 1:
            missing = [k for k in ("machine_rank", "main_process_ip", "main_process_port") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"num_machines {self.num_machines} needs {', '.join(missing)} too (launcher.*)")
            if self.machine_rank >= self.num_machines:
                raise ValueError(f"machine_rank {self.machine_rank} is not below num_machines {self.num_machines}")
        return self

    @property
    def active(self) -> bool:
        return self.config_file is not None or (self.num_processes or 1) > 1 or (self.num_machines or 1) > 1


class RunConfig(BaseModel):
    """One SPECS run. Each stage reads its own section."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str = "demo"
    """the run directory runs/NAME; a config file without it is named after the file"""
    world: WorldConfig = Field(default_factory=WorldConfig)
    """the procedural world: the default data when no data is named"""
    base: BaseModelConfig = Field(default_factory=BaseModelConfig)
    """the tiny base model built when base_model is not set"""
    base_model: str | None = None
    """a model path or hub id; None = the world's tiny base model"""
    zero: ZeroConfig = Field(default_factory=ZeroConfig)
    """stage 1a, a short GRPO run from the base (TRL GRPOTrainer)"""
    distill: DistillConfig = Field(default_factory=DistillConfig)
    """stage 1b, self-distilled preference pairs"""
    coldstart: ColdstartConfig = Field(default_factory=ColdstartConfig)
    """stage 2, the cold start on the pairs (TRL DPOTrainer / SFTTrainer) and its GF curve"""
    tune_lr: TuneLRSettings | None = None
    """the learning-rate rule (recipe/tune_lr.py); None = coldstart.learning_rate"""
    rl: RLConfig = Field(default_factory=RLConfig)
    """stage 3, GRPO with verifiable rewards (TRL GRPOTrainer); same keys as zero plus evaluation"""
    tune_rl: TuneRLSettings | None = None
    """the GRPO settings rule (recipe/tune_rl.py); None = zero/rl as written"""
    methods: list[Literal["dpo-sft", "dpo", "sft"]] = ["dpo-sft", "sft", "dpo"]
    """cold starts to compare"""
    rl_methods: list[Literal["dpo-sft", "dpo", "sft", "best-gf"]] | None = None
    """cold starts RL continues from; None = all; best-gf: the one whose saved model has the highest GF
    (recipe/select.choose_method), the choice and the runner-up in rl-best-gf/choice.json and the report"""
    rl_checkpoints: list[int] = Field(default_factory=list)
    """cold-start steps RL starts from instead of the saved model (the GF prediction study,
    configs/gf-prediction.yaml): rl-{m}-step{N} from coldstart-{m}'s checkpoint N, for each m in rl_methods
    (best-gf still runs); N a GF-curve step (a multiple of coldstart.curve_every), kept by coldstart.select: gf"""
    rl_from_base: bool = True
    """the "no cold start" baseline"""
    rl_control: bool = False
    """also RL from the base with rl.reward=random (rl-random): the noise control"""
    recipe: Literal["specs", "rl-only"] = "specs"
    """rl-only: RL from the base (and rl-random) only, no pairs"""
    eval: EvalSettings = Field(default_factory=EvalSettings)
    """the pipeline's final evaluation of every model"""
    findings: FindingsSettings = Field(default_factory=FindingsSettings)
    """verdict rules, fixed before the run"""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """training seeds; with several, one seed-S/ dir each and mean +- std in the report"""
    trust_remote_code: bool = False
    """run model code from the hub; off unless you trust the repository"""
    images: ImageSettings = Field(default_factory=ImageSettings)
    """the image-token bound of every processor and vLLM engine (set max_pixels for real checkpoints)"""
    launcher: LauncherSettings = Field(default_factory=LauncherSettings)
    """training stages via accelerate launch"""
    _source: str | None = PrivateAttr(None)  # the file it was read from (load_run_config)

    def _check_heldout_for_own_data(self) -> None:
        """Training on your own data, the GF curve and RL's eval must not score the toy world at 64 tokens by
        default: for a long-reasoning model Psi would be about 0 and GF undefined. Name them, or say world."""
        own = [f"{s}.data" for s in ("zero", "distill", "rl") if getattr(self, s).data]
        if not own:
            return
        c, r = self.coldstart, self.rl
        left = [k for k, m in (("curve_id", c), ("curve_ood", c)) if k not in m.model_fields_set]
        left = [f"coldstart.{k}" for k in left] + [
            f"rl.{k}" for k in ("eval_id", "eval_ood") if k not in r.model_fields_set
        ]
        if left:
            raise ValueError(
                f"{own[0]} is your own data, but {', '.join(left)} are left at the toy world's sets (world-id, "
                "world-ood, 64 new tokens): name held-out sets (data:PATH or a benchmark suite) and their lengths "
                "(coldstart.curve_max_new_tokens, rl.eval_max_new_tokens), or write world-id/world-ood to keep them"
            )

    def loading(self) -> Loading:
        """How every stage of this run loads a model and its processor."""
        return Loading(self.trust_remote_code, self.images.min_pixels, self.images.max_pixels)

    @model_validator(mode="after")
    def _check_sets_and_passthrough(self) -> RunConfig:
        """Held-out sets must name a suite or data:PATH; trainer_kwargs must be fields TRL knows."""
        sets = {
            "coldstart.curve_id": [self.coldstart.curve_id],
            "coldstart.curve_ood": self.coldstart.curve_ood,
            "rl.eval_id": [self.rl.eval_id],
            "rl.eval_ood": self.rl.eval_ood,
        }
        for key, names in sets.items():
            bad = [n for n in names if not is_suite(n)]
            if bad:
                raise ValueError(f"{key}: unknown set(s) {bad}; a suite ({', '.join(sorted(SUITES))}) or data:PATH")
        for section in ("zero", "coldstart", "rl"):
            try:
                check_trainer_kwargs(getattr(self, section).trainer_kwargs, section)
            except ConfigError as e:
                raise ValueError(str(e)) from None
        self._check_heldout_for_own_data()
        c = self.coldstart
        judged = sorted(set([c.curve_id, *c.curve_ood]) & set(self.eval.suites)) if c.select == "gf" else []
        if judged:
            raise ValueError(
                f"coldstart.select: gf decides on {judged}, which eval.suites also scores for the verdicts; "
                "give the GF curve held-out sets of its own (world-dev, world-dev-ood, or data: files)"
            )
        if self.recipe == "rl-only" and (self.methods or self.rl_methods):
            raise ValueError("recipe: rl-only trains no cold start; set methods: [] (and no rl_methods)")
        if "best-gf" in (self.rl_methods or []):
            if not self.methods:
                raise ValueError("rl_methods: best-gf chooses among the cold starts; methods is empty")
            read = sorted({c.curve_id, *c.curve_ood} & set(VERDICT_SUITES))
            if read:
                raise ValueError(
                    f"rl_methods: best-gf decides on the GF curve, which reads {read}, a split the verdicts read; "
                    "set coldstart.curve_id: world-dev and curve_ood: [world-dev-ood] (or data: sets no verdict reads)"
                )
        if self.rl_checkpoints:
            every = c.curve_every
            if c.select != "gf" or c.lora is not None:
                raise ValueError(
                    "rl_checkpoints: RL from cold-start checkpoints needs coldstart.select: gf (which keeps a "
                    "full checkpoint at every curve step) and no coldstart.lora"
                )
            off = [n for n in self.rl_checkpoints if n <= 0 or n % every]
            if off:
                raise ValueError(f"rl_checkpoints: {off} are not GF-curve steps (positive multiples of {every})")
        stray = sorted(set(self.rl_methods or []) - set(self.methods) - {"best-gf"})
        if stray:
            raise ValueError(f"rl_methods: {stray} are not in methods {self.methods}; RL needs their cold start")
        return self
