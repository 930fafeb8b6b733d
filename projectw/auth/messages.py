"""The e-mails accounts send, each as plain text and HTML."""

from __future__ import annotations

from html import escape

from projectw.mail import Message

_HTML = """<!doctype html>
<html><body style="font-family: system-ui, sans-serif; line-height: 1.5; max-width: 40em">
<p>{intro}</p>
<p><a href="{url}" style="display: inline-block; padding: .6em 1.2em; background: #1d4ed8;
color: #fff; border-radius: .3em; text-decoration: none">{action}</a></p>
<p style="color: #555; font-size: .9em">Or copy this address into your browser:<br>{url}</p>
<p style="color: #555; font-size: .9em">{outro}</p>
</body></html>
"""


def _with_link(subject: str, intro: str, action: str, url: str, outro: str) -> Message:
    text = f"{intro}\n\n{action}:\n{url}\n\n{outro}\n"
    html = _HTML.format(
        intro=escape(intro), action=escape(action), url=escape(url, quote=True), outro=escape(outro)
    )
    return Message(subject=subject, text=text, html=html)


def _hours(hours: float) -> str:
    if hours < 2:
        return f"{round(hours * 60)} minutes"
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)} days"
    return f"{hours:g} hours"


def verify_email(url: str, hours: float) -> Message:
    return _with_link(
        "Confirm your e-mail address for Project-W",
        "Please confirm that this is your e-mail address for your Project-W account.",
        "Confirm my address",
        url,
        f"The link works once and expires in {_hours(hours)}. If you did not sign up, "
        "ignore this message.",
    )


def change_email(url: str, hours: float) -> Message:
    return _with_link(
        "Confirm your new e-mail address for Project-W",
        "Someone asked to use this address for a Project-W account. Confirm to make the change.",
        "Use this address",
        url,
        f"The link works once and expires in {_hours(hours)}. If this was not you, ignore "
        "this message and nothing changes.",
    )


def reset_password(url: str, hours: float) -> Message:
    return _with_link(
        "Reset your Project-W password",
        "Someone asked to reset the password of the Project-W account with this address.",
        "Choose a new password",
        url,
        f"The link works once and expires in {_hours(hours)}. Choosing a new password signs "
        "you out everywhere. If this was not you, ignore this message.",
    )


def invitation(url: str, hours: float) -> Message:
    return _with_link(
        "You have been invited to Project-W",
        "An administrator created a Project-W account for you. Choose a password to start.",
        "Choose my password",
        url,
        f"The link works once and expires in {_hours(hours)}.",
    )


def email_changed(new_email: str) -> Message:
    text = (
        f"The e-mail address of your Project-W account was changed to {new_email}.\n\n"
        "If this was not you, contact your administrator.\n"
    )
    return Message(subject="Your Project-W e-mail address was changed", text=text)
