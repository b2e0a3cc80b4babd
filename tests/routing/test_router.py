import pytest
from llm_gateway.core.errors import ModelNotFound
from llm_gateway.providers.base import ModelSpec
from llm_gateway.providers.echo import EchoProvider
from llm_gateway.routing.router import Router


@pytest.fixture
def router() -> Router:
    a = EchoProvider("a", [ModelSpec("shared"), ModelSpec("only-a"), ModelSpec("org/model")])
    b = EchoProvider("b", [ModelSpec("shared"), ModelSpec("emb", kind="embedding")],
                     allow_unlisted_models=True)
    return Router({"a": a, "b": b}, {"fast": "a/only-a", "vec": "b/emb"})


def test_alias(router: Router) -> None:
    route = router.resolve("fast")
    assert (route.provider.name, route.model.id) == ("a", "only-a")
    assert route.model.aliases == ("fast",)


def test_direct_form_splits_at_the_first_slash(router: Router) -> None:
    route = router.resolve("a/org/model")
    assert (route.provider.name, route.model.id) == ("a", "org/model")


def test_unique_bare_model_id(router: Router) -> None:
    assert router.resolve("only-a").provider.name == "a"


def test_ambiguous_bare_model_id_names_the_candidates(router: Router) -> None:
    with pytest.raises(ModelNotFound, match="a/shared, b/shared"):
        router.resolve("shared")


def test_unlisted_model_routes_only_where_allowed(router: Router) -> None:
    assert router.resolve("b/anything").model.id == "anything"
    with pytest.raises(ModelNotFound) as exc:
        router.resolve("a/anything")
    assert exc.value.metadata == {"model": "a/anything"}


def test_unknown_provider_and_model(router: Router) -> None:
    for name in ("nobody/x", "ghost", ""):
        with pytest.raises(ModelNotFound):
            router.resolve(name)


def test_listing_is_sorted_with_aliases(router: Router) -> None:
    names = [m.name for m in router.models()]
    assert names == sorted(names)
    assert names == ["a/only-a", "a/org/model", "a/shared", "b/emb", "b/shared"]
    assert next(m for m in router.models() if m.name == "b/emb").aliases == ("vec",)
    assert [m.name for m in router.models("b")] == ["b/emb", "b/shared"]


def test_embedding_models_have_embedding_capabilities(router: Router) -> None:
    model = router.resolve("vec").model
    assert model.capabilities.embeddings and not model.capabilities.chat
