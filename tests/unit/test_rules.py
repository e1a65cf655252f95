"""The moderation rules as pure functions: each rule, its default, and the pipeline order."""

from __future__ import annotations

import ipaddress
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.comments import rules
from service.comments.rules import Action, Facts, evaluate
from service.comments.rules_config import RulesConfig
from service.comments.sanitize import sanitize_html
from service.comments.validation import CommentDraft
from service.config import Settings
from service.errors import (
    CommentsClosedError,
    ConfigError,
    DuplicateCommentError,
    FloodError,
    InvalidFieldsError,
)
from service.models import CommentStatus

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def draft(body: str = "Tack för inlägget!", **overrides: str) -> CommentDraft:
    values = {"post_id": "p", "name": "Åsa", "email": "asa@exempel.se", "url": None}
    values.update(overrides)
    return CommentDraft(body_source=body, body_html=sanitize_html(body), parent_id=None, **values)


def facts(**overrides: object) -> Facts:
    return Facts(**{"now": NOW, "ip": "192.0.2.7", "user_agent": "Firefox", **overrides})


def test_the_defaults_follow_wordpress_and_review_everything() -> None:
    config = RulesConfig.from_settings(Settings())

    assert config == RulesConfig()
    assert (config.flood_seconds, config.max_links, config.max_depth) == (15, 2, 5)
    assert (config.close_after_days, config.auto_approve_known_authors) == (0, False)
    assert Settings().rate_limit == "20/minute"
    assert Settings().rate_limit_storage == "memory://"
    assert Settings().trusted_proxies == 0
    decision = evaluate(draft(), facts(), config)
    assert (decision.status, decision.reasons) == (CommentStatus.PENDING, [rules.REVIEW_REASON])


def test_each_rule_setting_is_a_kommentera_variable_defaulting_as_it_does() -> None:
    settings_defaults = {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
    for rule in fields(RulesConfig):
        default = settings_defaults[rule.name]
        if rule.name == "blocked_ips":
            default = tuple(ipaddress.ip_network(ip) for ip in default)
        assert getattr(RulesConfig(), rule.name) == default


def test_a_closed_thread_rejects_and_age_closes_only_when_configured() -> None:
    old = facts(thread_created_at=NOW - timedelta(days=30))

    assert rules.closed_thread(draft(), facts(thread_closed=True), RulesConfig()).error
    assert rules.closed_thread(draft(), old, RulesConfig()) is None
    verdict = rules.closed_thread(draft(), old, RulesConfig(close_after_days=14))
    assert isinstance(verdict.error, CommentsClosedError)
    young = facts(thread_created_at=NOW - timedelta(days=13))
    assert rules.closed_thread(draft(), young, RulesConfig(close_after_days=14)) is None


def test_replies_deeper_than_the_limit_are_a_field_error_and_zero_switches_it_off() -> None:
    verdict = rules.reply_depth(draft(), facts(depth=6), RulesConfig())

    assert isinstance(verdict.error, InvalidFieldsError)
    assert verdict.error.errors[0].field == "parent_id"
    assert verdict.error.errors[0].code == "too_deep"
    assert rules.reply_depth(draft(), facts(depth=5), RulesConfig()) is None
    assert rules.reply_depth(draft(), facts(depth=99), RulesConfig(max_depth=0)) is None


def test_a_duplicate_is_rejected() -> None:
    verdict = rules.duplicate(draft(), facts(duplicate=True), RulesConfig())

    assert isinstance(verdict.error, DuplicateCommentError)
    assert rules.duplicate(draft(), facts(), RulesConfig()) is None


def test_flood_tells_how_long_to_wait_and_zero_switches_it_off() -> None:
    recent = facts(last_comment_at=NOW - timedelta(seconds=4.5))

    verdict = rules.flood(draft(), recent, RulesConfig())
    assert isinstance(verdict.error, FloodError)
    assert verdict.error.retry_after == 11
    assert rules.flood(draft(), recent, RulesConfig(flood_seconds=0)) is None
    older = facts(last_comment_at=NOW - timedelta(seconds=15))
    assert rules.flood(draft(), older, RulesConfig()) is None


def test_a_filled_honeypot_is_spam_only_when_the_field_is_configured() -> None:
    assert rules.honeypot(draft(), facts(honeypot="x"), RulesConfig()) is None
    verdict = rules.honeypot(draft(), facts(honeypot="x"), RulesConfig(honeypot_field="site"))
    assert verdict.action is Action.SPAM


@pytest.mark.parametrize(
    ("email", "blocked"),
    [("spam@bad.example", True), ("x@bad.example", True), ("x@notbad.example", False)],
)
def test_blocked_emails_match_addresses_and_whole_domains(email: str, blocked: bool) -> None:
    config = RulesConfig(blocked_emails=("spam@bad.example", "@bad.example"))

    verdict = rules.blocked_email(draft(email=email), facts(), config)

    assert (verdict is not None and verdict.action is Action.SPAM) is blocked


@pytest.mark.parametrize(
    ("ip", "blocked"), [("203.0.113.9", True), ("2001:db8::1", True), ("192.0.2.1", False)]
)
def test_blocked_ips_match_addresses_and_networks(ip: str, blocked: bool) -> None:
    networks = (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("2001:db8::/32"))

    verdict = rules.blocked_ip(draft(), facts(ip=ip), RulesConfig(blocked_ips=networks))

    assert (verdict is not None) is blocked


@pytest.mark.parametrize(
    ("field", "overrides", "fact_overrides"),
    [
        ("name", {"name": "CASINO king"}, {}),
        ("email", {"email": "casino@exempel.se"}, {}),
        ("url", {"url": "https://casino.example"}, {}),
        ("body", {"body": "Visit <b>cas</b>ino now"}, {}),
        ("ip", {}, {"ip": "198.51.100.23"}),
        ("user_agent", {}, {"user_agent": "CasinoBot/1.0"}),
    ],
)
def test_word_lists_match_case_insensitive_substrings_of_every_field(
    field: str, overrides: dict[str, str], fact_overrides: dict[str, str]
) -> None:
    config = RulesConfig(disallowed_words=("casino", "198.51.100.23"))

    verdict = rules.disallowed_words(draft(**overrides), facts(**fact_overrides), config)

    assert verdict.action is Action.SPAM
    assert verdict.detail.endswith(f" in {field}")


def test_disallowed_words_can_trash_instead_and_moderation_words_hold() -> None:
    trash = RulesConfig(disallowed_words=("casino",), disallowed_action="trash")
    hold = RulesConfig(moderation_words=("pengar",))

    assert rules.disallowed_words(draft("casino"), facts(), trash).action is Action.TRASH
    verdict = rules.moderation_words(draft("Mer PENGAR"), facts(), hold)
    assert (verdict.action, verdict.detail) == (Action.HOLD, "'pengar' in body")
    assert rules.moderation_words(draft("casino"), facts(), RulesConfig()) is None


def test_two_links_hold_counting_bare_urls_and_zero_switches_it_off() -> None:
    two = draft("Se https://a.example och <a href='https://b.example'>b</a>")

    assert rules.too_many_links(two, facts(), RulesConfig()).action is Action.HOLD
    assert rules.too_many_links(draft("Se https://a.example"), facts(), RulesConfig()) is None
    assert rules.too_many_links(two, facts(), RulesConfig(max_links=0)) is None


def test_learned_spam_signals_and_known_authors() -> None:
    verdict = rules.learned_spam(draft(), facts(spam_signals=("email", "ip")), RulesConfig())
    assert verdict.detail == "e-mail marked spam by a moderator and ip marked spam by a moderator"
    on = RulesConfig(auto_approve_known_authors=True)
    assert rules.known_author(draft(), facts(known_author=True), on).action is Action.APPROVE
    assert rules.known_author(draft(), facts(known_author=True), RulesConfig()) is None


EVERYTHING = RulesConfig(
    close_after_days=1,
    honeypot_field="site",
    disallowed_words=("casino",),
    moderation_words=("pengar",),
    auto_approve_known_authors=True,
)


@pytest.mark.parametrize(
    ("case", "body", "fact_overrides", "outcome", "rule"),
    [
        (
            "closed wins over duplicate",
            "x",
            {"thread_closed": True, "duplicate": True},
            "reject",
            "closed",
        ),
        ("depth wins over duplicate", "x", {"depth": 9, "duplicate": True}, "reject", "depth"),
        (
            "duplicate wins over flood",
            "x",
            {"duplicate": True, "last_comment_at": NOW},
            "reject",
            "duplicate",
        ),
        ("flood wins over spam", "casino", {"last_comment_at": NOW}, "reject", "flood"),
        ("honeypot spam wins over hold", "pengar", {"honeypot": "x"}, "spam", "honeypot"),
        (
            "disallowed wins over known author",
            "casino",
            {"known_author": True},
            "spam",
            "disallowed_words",
        ),
        (
            "learned spam wins over hold",
            "pengar",
            {"spam_signals": ("ip",)},
            "spam",
            "learned_spam",
        ),
        (
            "hold wins over known author",
            "pengar",
            {"known_author": True},
            "pending",
            "moderation_words",
        ),
        ("known author approves", "hej", {"known_author": True}, "approved", "known_author"),
        ("nothing spoke", "hej", {}, "pending", "review"),
    ],
)
def test_the_pipeline_order_decides_which_rule_wins(
    case: str, body: str, fact_overrides: dict[str, object], outcome: str, rule: str
) -> None:
    decision = evaluate(draft(body), facts(**fact_overrides), EVERYTHING)

    status = "reject" if decision.status is None else decision.status.value
    assert (status, decision.reasons[0]["rule"]) == (outcome, rule), case


def test_a_held_comment_keeps_every_hold_reason() -> None:
    body = "pengar https://a.example https://b.example"

    decision = evaluate(draft(body), facts(), EVERYTHING)

    assert [r["rule"] for r in decision.reasons] == ["moderation_words", "links"]


def test_the_rules_file_extends_the_word_lists(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        'disallowed_words = ["Casino", "poker"]\nblocked_ips = ["203.0.113.0/24"]\n',
        encoding="utf-8",
    )

    config = RulesConfig.from_settings(
        Settings(disallowed_words=("casino", "viagra"), rules_file=str(path))
    )

    assert config.disallowed_words == ("casino", "viagra", "poker")
    assert config.blocked_ips == (ipaddress.ip_network("203.0.113.0/24"),)


@pytest.mark.parametrize("content", ['nonsense = ["x"]', "disallowed_words = 3", "not toml ="])
def test_a_bad_rules_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ConfigError):
        RulesConfig.from_settings(Settings(rules_file=str(path)))


def test_the_environment_configures_every_rule() -> None:
    settings = Settings.from_env(
        {
            "KOMMENTERA_FLOOD_SECONDS": "0",
            "KOMMENTERA_RATE_LIMIT": "5/minute",
            "KOMMENTERA_DISALLOWED_WORDS": "casino, poker ,",
            "KOMMENTERA_DISALLOWED_ACTION": "trash",
            "KOMMENTERA_AUTO_APPROVE_KNOWN_AUTHORS": "true",
            "KOMMENTERA_BLOCKED_IPS": "203.0.113.0/24",
        }
    )

    assert settings.flood_seconds == 0
    assert settings.rate_limit == "5/minute"
    assert settings.disallowed_words == ("casino", "poker")
    assert settings.disallowed_action == "trash"
    assert settings.auto_approve_known_authors is True
    for bad in (
        {"KOMMENTERA_RATE_LIMIT": "lots"},
        {"KOMMENTERA_DISALLOWED_ACTION": "delete"},
        {"KOMMENTERA_RATE_LIMIT_STORAGE": "mongodb://x"},
    ):
        with pytest.raises(ConfigError):
            Settings.from_env(bad)
    with pytest.raises(ConfigError):
        RulesConfig.from_settings(Settings(blocked_ips=("not-an-ip",)))
