"""``smartcore signals optimize`` and ``smartcore signals report`` end to end, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartcore.cli import main
from smartcore.signals.io import read_plan
from smartcore.signals.transyt import evaluate_network


def test_optimize_network_to_json_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plans.json"
    assert main(["signals", "optimize", "helsinki", "-o", str(out), "--cycle", "60:90:30", "--restarts", "2",
                 "--threads", "2", "--report", str(tmp_path / "lg.csv")]) == 0
    text = capsys.readouterr().out
    assert "signalised intersections" in text and "PI" in text
    plan, feeds = read_plan(out)
    assert feeds is not None and len(plan) > 10
    cycles = {round(it.cycle_s, 6) for it in plan}
    assert cycles in ({60.0}, {90.0}) or len(cycles) > 1  # a candidate common cycle, or the start kept
    # the written plan is the optimised one: its PI is what the command printed
    pi = evaluate_network(plan, feeds).pi
    assert f"-> {pi:.3f} veh.h/h" in text
    assert (tmp_path / "lg.csv").stat().st_size > 0
    assert main(["signals", "report", str(out), "--lane-groups", "--max-rows", "5"]) == 0
    rep = capsys.readouterr().out
    assert "critical_v_c" in rep and "queue_95_m" in rep
    # GMNS output: a folder of signal tables
    assert main(["signals", "optimize", "helsinki", "-o", str(tmp_path / "gmns"), "--cycle", "keep",
                 "--restarts", "1"]) == 0
    assert (tmp_path / "gmns" / "signal_timing_phase.csv").exists()


def test_optimize_sumo_and_report_time_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sumo")
    from test_signals_sumo import build_corridor

    net, rou = build_corridor(tmp_path)
    add = tmp_path / "t.add.xml"
    assert main(["signals", "optimize", "--sumo-net", str(net), "--routes", str(rou), "-o", str(add),
                 "--threads", "2"]) == 0
    assert "<tlLogic" in add.read_text()
    capsys.readouterr()
    png = tmp_path / "tsd.png"
    assert main(["signals", "report", "--sumo-net", str(net), "--routes", str(rou), "--tls", str(add),
                 "--time-space", str(png), "--arterial", "J1,J2,J3", "--csv", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert "J2" in out and png.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["signals", "optimize", "-o", "x.json"], "give a NETWORK"),
        (
            ["signals", "optimize", "--sumo-net", "missing.net.xml", "--routes", "r.xml", "-o", "t.add.xml"],
            "missing.net.xml: no such file",
        ),
        (["signals", "optimize", "helsinki", "--sumo-net", "n.xml", "-o", "t.add.xml"], "not both"),
        (["signals", "optimize", "helsinki", "-o", "x.json", "--cycle", "90:60"], "--cycle"),
        (["signals", "optimize", "helsinki", "-o", "x.json", "--restarts", "0"], "restarts"),
        (["signals", "report"], "give a PLAN.json"),
        (["signals", "report", "helsinki", "--time-space", "x.png"], "--arterial"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_flows_file_names_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text("from_node_id,to_node_id,flow_vph\n1,2,-5\n")
    assert (
        main(["signals", "optimize", "helsinki", "--flows", str(flows), "-o", str(tmp_path / "x.json")]) == 2
    )
    err = capsys.readouterr().err
    assert "flows.csv:2" in err and "flow_vph" in err
    bad_plan = tmp_path / "bad.json"
    bad_plan.write_text(json.dumps({"format": "something else"}))
    assert main(["signals", "report", str(bad_plan)]) == 2
    assert "smartcore signal plan" in capsys.readouterr().err


def test_reoptimise_a_json_plan(tmp_path):
    """A plan written by 'signals optimize -o PLAN.json' can be optimised again; the PI never
    increases (the optimiser keeps the starting plan when no candidate beats it)."""
    import json
    import subprocess
    import sys

    first = tmp_path / "p1.json"
    second = tmp_path / "p2.json"
    r = subprocess.run([sys.executable, "-m", "smartcore", "signals", "optimize", "helsinki", "-o",
                        str(first), "--restarts", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "smartcore", "signals", "optimize", str(first), "-o",
                        str(second), "--restarts", "1", "--cycle", "keep"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pi = [float(x) for x in r.stdout.split("PI ")[1].split(" veh")[0].split(" -> ")]
    assert pi[1] <= pi[0]
    assert json.loads(second.read_text())


def test_optimise_and_report_from_gmns_signal_tables(tmp_path):
    import subprocess
    import sys

    first, second = tmp_path / "gmns1", tmp_path / "gmns2"
    run = lambda *a: subprocess.run([sys.executable, "-m", "smartcore", "signals", *a],  # noqa: E731
                                    capture_output=True, text=True)
    r = run("optimize", "helsinki", "-o", str(first), "--restarts", "1")
    assert r.returncode == 0, r.stderr
    assert (first / "signal_timing_phase.csv").is_file()
    r = run("optimize", str(first), "-o", str(second), "--restarts", "1")
    assert r.returncode == 0, r.stderr
    pi = [float(x) for x in r.stdout.split("PI ")[1].split(" veh")[0].split(" -> ")]
    assert pi[1] <= pi[0] and "64 signalised intersections" in r.stdout
    r = run("report", str(second), "--max-rows", "3")
    assert r.returncode == 0, r.stderr
    assert "delay_s" in r.stdout and "los" in r.stdout
