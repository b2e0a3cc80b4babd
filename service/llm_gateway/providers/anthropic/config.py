"""Configuration of the Anthropic provider (the Messages API).

    providers:
      anthropic:
        api_key: ${ANTHROPIC_API_KEY}
        # base_url: https://api.anthropic.com      (the default)
        # default_max_tokens: 4096                 (Anthropic requires max_tokens)
        # effort_mode: auto                        (auto | adaptive | budget)
        # effort_budget_tokens: {high: 20000}      (budget mode: effort -> budget)
        # beta: [some-feature-2025-01-01]          (sent as `anthropic-beta`)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...config.schema import HttpProviderConfig

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
# Anthropic's minimum `thinking.budget_tokens`.
MIN_THINKING_BUDGET = 1024


class EffortBudgets(BaseModel):
    """Reasoning effort -> `thinking.budget_tokens`, for models that only take
    a token budget (effort_mode `budget`, or `auto` on older models)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minimal: int = Field(default=1024, ge=MIN_THINKING_BUDGET)
    low: int = Field(default=4096, ge=MIN_THINKING_BUDGET)
    medium: int = Field(default=8192, ge=MIN_THINKING_BUDGET)
    high: int = Field(default=16384, ge=MIN_THINKING_BUDGET)
    xhigh: int = Field(default=24576, ge=MIN_THINKING_BUDGET)
    max: int = Field(default=32768, ge=MIN_THINKING_BUDGET)


class AnthropicConfig(HttpProviderConfig):
    type: str = "anthropic"
    base_url: str = DEFAULT_BASE_URL
    # The `anthropic-version` header.
    anthropic_version: str = API_VERSION
    # Beta feature names, sent as one comma-separated `anthropic-beta` header.
    beta: list[str] = Field(default_factory=list)
    # `max_tokens` when the request sets no max_output_tokens: Anthropic
    # requires the field and has no default of its own.
    default_max_tokens: int = Field(default=4096, ge=1)
    # How a reasoning effort is sent: `adaptive` = thinking {type: adaptive}
    # plus output_config.effort (Claude Opus 4.6, Sonnet 4.6 and later);
    # `budget` = thinking {type: enabled, budget_tokens} from
    # effort_budget_tokens (older models); `auto` = budget for the older
    # models listed in docs/providers/anthropic.md, adaptive otherwise.
    effort_mode: Literal["auto", "adaptive", "budget"] = "auto"
    effort_budget_tokens: EffortBudgets = EffortBudgets()

    @model_validator(mode="after")
    def _key_required(self) -> AnthropicConfig:
        if self.api_key is None:
            raise ValueError("api_key is required for Anthropic (for example "
                             "${ANTHROPIC_API_KEY})")
        if any(not b or "," in b for b in self.beta):
            raise ValueError("beta entries must be non-empty feature names without commas")
        return self
