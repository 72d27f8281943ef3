"""What the paid APIs cost, in one place: Claude per million tokens, Document AI per page.

List prices in USD (Anthropic's and Google Cloud's pricing pages, late 2026). Update here only;
every stage computes its ``cost_usd`` through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float  # 5-minute cache writes: 1.25 x input
    cache_read: float  # cache hits: 0.1 x input


def _price(input_per_mtok: float, output_per_mtok: float) -> TokenPrice:
    return TokenPrice(input_per_mtok, output_per_mtok, input_per_mtok * 1.25, input_per_mtok * 0.1)


# Longest prefix wins, so dated ids ("claude-sonnet-4-5-20250929") find their family.
CLAUDE_PRICES: dict[str, TokenPrice] = {
    "claude-opus-4-5": _price(5.0, 25.0),
    "claude-opus-4-6": _price(5.0, 25.0),
    "claude-opus-4-1": _price(15.0, 75.0),
    "claude-opus-4": _price(15.0, 75.0),
    "claude-sonnet-4-5": _price(3.0, 15.0),
    "claude-sonnet-4": _price(3.0, 15.0),
    "claude-3-7-sonnet": _price(3.0, 15.0),
    "claude-haiku-4-5": _price(1.0, 5.0),
    "claude-3-5-haiku": _price(0.8, 4.0),
}
# An unknown model is priced as Opus 4.1, the dearest: a cost report should never be too low.
UNKNOWN_MODEL_PRICE = CLAUDE_PRICES["claude-opus-4-1"]

# Document AI per page processed: Form Parser (tables with spans) list price, first million pages a month.
DOCUMENTAI_PRICE_PER_PAGE = 30.0 / 1000


def claude_price(model: str) -> TokenPrice:
    matches = [name for name in CLAUDE_PRICES if model.startswith(name)]
    return CLAUDE_PRICES[max(matches, key=len)] if matches else UNKNOWN_MODEL_PRICE


def claude_cost(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
) -> float:
    """USD for one or more calls; ``input_tokens`` excludes cached tokens, as in the API's ``usage``."""
    price = claude_price(model)
    total = (
        input_tokens * price.input
        + output_tokens * price.output
        + cache_creation_input_tokens * price.cache_write
        + cache_read_input_tokens * price.cache_read
    )
    return round(total / 1_000_000, 6)


def documentai_cost(pages: int) -> float:
    return round(pages * DOCUMENTAI_PRICE_PER_PAGE, 6)
