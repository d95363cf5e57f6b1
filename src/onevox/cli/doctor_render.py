"""`onevox doctor`'s report as the lines a person reads (doctor_cmd.py builds it; --json prints it as is)."""

from __future__ import annotations

from typing import Any

CHECKS = ("hotkey", "injection", "microphone", "model", "daemon", "feedback", "profiles", "audio")


def desktop_line(d: dict[str, Any]) -> str:
    if d["session"] == "none":
        head = "none (no DISPLAY or WAYLAND_DISPLAY)"
    else:
        head = f"{d['session']}, {d['family']}"
        if d["desktop_names"]:
            head += f" (XDG_CURRENT_DESKTOP={':'.join(d['desktop_names'])})"
    portals = ", ".join(p.rsplit(".", 1)[-1] for p in d["portals"]) or "none found"
    facts = [f"D-Bus {'yes' if d['dbus'] else 'no'}", f"portals: {portals}",
             f"/dev/uinput {'writable' if d['uinput_writable'] else 'not writable'}",
             f"/dev/input {'readable' if d['input_readable'] else 'not readable'}",
             f"input group {'yes' if d['in_input_group'] else 'no'}",
             f"tools: {', '.join(d['tools']) or 'none'}"]
    if d.get("virtual_keyboard") is not None:
        facts.insert(2, f"virtual keyboard {'yes' if d['virtual_keyboard'] else 'no'}")
    return head + "\n" + " " * 14 + "; ".join(facts)


def render(report: dict[str, Any]) -> str:
    marks = {"ok": "ok", "missing": "MISSING", "setup": "TO DO", "off": "off"}
    lines = [f"{'desktop':<12}  {desktop_line(report['desktop'])}"]
    for name in CHECKS:
        check = report[name]
        status = marks[check["status"]]
        if check["status"] == "missing" and not check["essential"]:
            status = "no"
        lines.append(f"{name:<12}  {status}: {check['summary']}")
        if name == "injection" and check["order"]:
            for m in check["order"]:
                lines.append(f"{'':<14}  {'ok' if m['ok'] else 'unavailable':<11}  {m['method']}"
                             + (f": {m['reason']}" if m["reason"] else ""))
                if m["fix"]:
                    lines.append(f"{'':<14}  {'':<11}  fix: {m['fix']}")
        elif check["reason"] and (check["status"] != "ok" or name in ("microphone", "audio")):
            lines.append(f"{'':<14}  {check['reason']}")
        if check["fix"]:
            first, *rest = check["fix"].split("\n")
            lines.append(f"{'':<14}  fix: {first}")
            lines.extend(f"{'':<14}       {line}" for line in rest)
    if report["ok"]:
        lines.append("dictation can work end to end")
    else:
        lines.append(f"dictation cannot work yet: missing {', '.join(report['missing'])}")
    return "\n".join(lines)
