"""The neutral ReasoningConfig -> Anthropic's `thinking` and
`output_config.effort`. Pure.

Anthropic has two ways to ask for reasoning
(https://platform.claude.com/docs/en/build-with-claude/extended-thinking,
/adaptive-thinking, /effort):
- `thinking: {type: enabled, budget_tokens: N}` (N >= 1024 and below
  max_tokens): every thinking model; deprecated on Claude Opus 4.6 /
  Sonnet 4.6 and refused by later models;
- `thinking: {type: adaptive}` with `output_config.effort` (low, medium,
  high, xhigh, max): Claude Opus 4.6, Sonnet 4.6 and later.
A token budget from the caller is always sent as a budget. An effort is sent
as adaptive thinking plus the effort level, or, for models that only take a
budget, as the configured budget for that effort (see ThinkingSettings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import InvalidRequest, UnsupportedFeature
from ...core.types import ReasoningConfig, ReasoningEffort
from .config import MIN_THINKING_BUDGET, EffortBudgets

# Models that know only budget thinking: `effort_mode: auto` sends them a
# budget. A closed list: every model since Claude Opus 4.6 takes adaptive
# thinking (and some take nothing else).
BUDGET_ONLY_MODEL_PREFIXES = (
    "claude-3",
    "claude-opus-4-0", "claude-opus-4-1", "claude-opus-4-5", "claude-opus-4-2025",
    "claude-sonnet-4-0", "claude-sonnet-4-5", "claude-sonnet-4-2025",
    "claude-haiku-4-5",
)

# output_config.effort has no "minimal": the lowest level is the closest.
EFFORT_LEVELS: dict[ReasoningEffort, str] = {
    ReasoningEffort.MINIMAL: "low", ReasoningEffort.LOW: "low",
    ReasoningEffort.MEDIUM: "medium", ReasoningEffort.HIGH: "high",
    ReasoningEffort.XHIGH: "xhigh", ReasoningEffort.MAX: "max",
}


def effort_budgets(budgets: EffortBudgets | None = None) -> dict[ReasoningEffort, int]:
    """The configured effort -> budget table, keyed by effort."""
    values = (budgets or EffortBudgets()).model_dump()
    return {ReasoningEffort(name): tokens for name, tokens in values.items()}


@dataclass(frozen=True, slots=True)
class ThinkingSettings:
    effort_mode: str = "auto"  # "auto" | "adaptive" | "budget"
    effort_budgets: Mapping[ReasoningEffort, int] = field(default_factory=effort_budgets)

    def mode_for(self, model: str) -> str:
        if self.effort_mode != "auto":
            return self.effort_mode
        return "budget" if model.startswith(BUDGET_ONLY_MODEL_PREFIXES) else "adaptive"


@dataclass(frozen=True, slots=True)
class ThinkingPlan:
    thinking: dict[str, Any] | None = None
    effort: str | None = None  # output_config.effort
    # Tokens set aside for thinking: Anthropic counts them in max_tokens, so
    # the default max_tokens grows by this much.
    budget: int = 0


def plan_thinking(reasoning: ReasoningConfig | None, model: str, settings: ThinkingSettings,
                  max_output_tokens: int | None, provider: str) -> ThinkingPlan:
    if reasoning is None:
        return ThinkingPlan()
    effort = reasoning.effort
    if reasoning.budget_tokens is None and effort is None:
        # Anthropic's `display` lives inside the thinking configuration:
        # there is nothing to attach it to without turning thinking on.
        raise UnsupportedFeature(provider, "include_thoughts without an effort or budget",
                                 "set reasoning.effort or reasoning.budget_tokens as well")
    if reasoning.budget_tokens == 0 or effort is ReasoningEffort.NONE:
        return ThinkingPlan({"type": "disabled"})  # each body its own dict
    if reasoning.budget_tokens is not None:
        return _budget(reasoning.budget_tokens, reasoning.include_thoughts)
    assert effort is not None
    if settings.mode_for(model) == "adaptive":
        return ThinkingPlan(_with_display({"type": "adaptive"}, reasoning.include_thoughts),
                            effort=EFFORT_LEVELS[effort])
    budget = settings.effort_budgets[effort]
    if max_output_tokens is not None and budget >= max_output_tokens:
        # The budget must stay below max_tokens: an effort is a level, not a
        # number, so it shrinks to fit the caller's limit.
        budget = max_output_tokens - 1
        if budget < MIN_THINKING_BUDGET:
            raise InvalidRequest.one(
                "input.generation.max_output_tokens",
                f"must be above {MIN_THINKING_BUDGET} to reason with this model: Anthropic "
                f"counts thinking (at least {MIN_THINKING_BUDGET} tokens) in max_tokens")
    return _budget(budget, reasoning.include_thoughts)


def _budget(budget: int, include_thoughts: bool | None) -> ThinkingPlan:
    thinking = _with_display({"type": "enabled", "budget_tokens": budget}, include_thoughts)
    return ThinkingPlan(thinking, budget=budget)


def _with_display(thinking: dict[str, Any], include_thoughts: bool | None) -> dict[str, Any]:
    if include_thoughts is not None:
        # "omitted" still returns the signature, so the turn can continue.
        thinking["display"] = "summarized" if include_thoughts else "omitted"
    return thinking
