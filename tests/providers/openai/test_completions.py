"""Text completion, vLLM's extras and /tokenize, over real HTTP to a fake
vLLM / OpenAI: the exact request sent and the exact neutral result."""

import pytest
from llm_gateway.core import errors as e
from llm_gateway.core.completions import (
    CompletionChoice,
    CompletionChoiceDone,
    CompletionDelta,
    CompletionDone,
    CompletionRequest,
    CompletionStart,
    TokenLogprob,
)
from llm_gateway.core.tokens import CountMethod, TokenCount
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
    GenerationConfig,
    GrammarFormat,
    JsonSchemaFormat,
    Message,
    RegexFormat,
    Role,
    TextPart,
    Usage,
)

from tests.fixtures import openai as fx
from tests.support.fake_upstream import FakeUpstream, Reply, Stream, sse
from tests.support.providers import ctx, make_provider


async def test_complete_two_prompts_with_logprobs(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/completions", Reply(json=fx.COMPLETION))
    provider = make_provider("openai", upstream, path="/v1", api_key="k")
    response = await provider.complete(CompletionRequest(
        "x", ("Say this is a test", "The quick brown fox jumps over"),
        GenerationConfig(max_output_tokens=7, temperature=0.0, stop_sequences=["\n\n\n"]),
        echo=False, logprobs=2, suffix="!"), ctx("gpt-3.5-turbo-instruct"))
    assert upstream.wait_for_exchange().request.json() == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["Say this is a test", "The quick brown fox jumps over"],
        "max_tokens": 7, "temperature": 0.0, "stop": ["\n\n\n"], "logprobs": 2, "suffix": "!"}
    assert response.choices == (
        CompletionChoice(0, "\n\nThis is indeed a test", FinishReason.LENGTH, "length"),
        CompletionChoice(1, " the lazy dog", FinishReason.STOP, "stop", (
            TokenLogprob(" the", -0.5, ((" the", -0.5), (" a", -1.5)), 9),
            TokenLogprob(" lazy", -1.25, ((" lazy", -1.25),), 13),
            TokenLogprob(" dog", -0.125, ((" dog", -0.125),), 18))),
    )
    assert response.usage == Usage(5, 7)
    await provider.aclose()


async def test_stream_completion_interleaved_choices(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/completions", Stream(sse(*fx.STREAM_COMPLETION)))
    provider = make_provider("vllm", upstream, path="/v1")
    events = [ev async for ev in provider.stream_complete(
        CompletionRequest("x", ("a", "b"), echo=True), ctx("qwen"))]
    body = upstream.wait_for_exchange().request.json()
    assert body["stream"] is True and body["echo"] is True and body["prompt"] == ["a", "b"]
    assert events == [
        CompletionStart("cmpl-7iA7iJjj8V2zOkCGvWF2hAkDWBQZe", "gpt-3.5-turbo-instruct"),
        CompletionDelta(0, "This"), CompletionDelta(1, "That"),
        CompletionDelta(0, " is"), CompletionChoiceDone(0, FinishReason.STOP, "stop"),
        CompletionDelta(1, " was"), CompletionChoiceDone(1, FinishReason.LENGTH, "length"),
        CompletionDone(Usage(4, 4)),
    ]
    await provider.aclose()


async def test_vllm_extras_reach_vllm(upstream: FakeUpstream) -> None:
    """min_p, top_k, repetition_penalty as typed fields; guided decoding as
    structured_outputs; beam search through pass-through options."""
    upstream.on("POST", "/v1/completions", Reply(json=fx.COMPLETION))
    upstream.on("POST", "/v1/chat/completions", Reply(json=fx.CHAT_TEXT))
    provider = make_provider("vllm", upstream, path="/v1")
    generation = GenerationConfig(max_output_tokens=16, top_k=20, min_p=0.05,
                                  repetition_penalty=1.15, seed=11)
    await provider.complete(CompletionRequest(
        "x", ("SELECT",), generation, response_format=GrammarFormat("root ::= 'x'"),
        provider_options={"vllm": {"use_beam_search": True, "n": 1, "best_of": 4}}),
        ctx("Qwen/Qwen2.5-Coder"))
    assert upstream.wait_for_exchange().request.json() == {
        "model": "Qwen/Qwen2.5-Coder", "prompt": "SELECT", "max_tokens": 16, "top_k": 20,
        "min_p": 0.05, "repetition_penalty": 1.15, "seed": 11,
        "structured_outputs": {"grammar": "root ::= 'x'"},
        "use_beam_search": True, "n": 1, "best_of": 4}
    await provider.chat(ChatRequest(
        "x", (Message(Role.USER, (TextPart("digits"),)),), generation=generation,
        response_format=RegexFormat(r"\d{3}")), ctx("Qwen/Qwen2.5"))
    chat_body = upstream.wait_for_exchange(2).request.json()
    assert chat_body["structured_outputs"] == {"regex": r"\d{3}"}
    assert (chat_body["top_k"], chat_body["min_p"], chat_body["repetition_penalty"]) == (
        20, 0.05, 1.15)
    await provider.complete(CompletionRequest(
        "x", ("{",), response_format=JsonSchemaFormat({"type": "object"})), ctx("q"))
    assert upstream.wait_for_exchange(3).request.json()["structured_outputs"] == {
        "json": {"type": "object"}}
    await provider.aclose()


async def test_openai_refuses_vllm_only_features(upstream: FakeUpstream) -> None:
    provider = make_provider("openai", upstream, path="/v1", api_key="k")
    with pytest.raises(e.UnsupportedFeature, match="min_p"):
        await provider.complete(CompletionRequest("x", ("a",), GenerationConfig(min_p=0.1)),
                                ctx("gpt-3.5-turbo-instruct"))
    with pytest.raises(e.UnsupportedFeature, match="constrained output"):
        await provider.complete(CompletionRequest("x", ("a",),
                                                  response_format=RegexFormat("a")),
                                ctx("gpt-3.5-turbo-instruct"))
    assert upstream.requests() == []
    await provider.aclose()


async def test_vllm_tokenize_counts_the_chat_request(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/tokenize", Reply(json=fx.TOKENIZE))
    provider = make_provider("vllm", upstream, path="/v1")
    request = ChatRequest("x", (Message(Role.USER, (TextPart("How many tokens?"),)),),
                          system=(TextPart("Be brief."),), tools=(FunctionTool("lookup"),))
    count = await provider.count_tokens(request, ctx("Qwen/Qwen3-8B"))
    assert count == TokenCount(17, CountMethod.PROVIDER_TOKENIZER, "vllm:/tokenize",
                               model="Qwen/Qwen3-8B")
    assert upstream.wait_for_exchange().request.json() == {
        "model": "Qwen/Qwen3-8B",
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "How many tokens?"}],
        "add_generation_prompt": True,
        "tools": [{"type": "function", "function": {
            "name": "lookup", "parameters": {"type": "object", "properties": {}}}}]}
    await provider.aclose()


async def test_token_counting_is_not_guessed_where_there_is_no_endpoint(
        upstream: FakeUpstream) -> None:
    provider = make_provider("openai", upstream, path="/v1", api_key="k")
    assert not provider.model_info("gpt-4.1").capabilities.token_counting  # type: ignore[union-attr]
    await provider.aclose()
