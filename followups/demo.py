"""The follow-up demo: group leads and, with the demo accounts, about three weeks of follow-up history.

Called by ``load_demo`` after the procedures and training (``register_demo_loader``, order 50). The
groups the demo procedures' rules name (售后组, 热线组, 主管) are created by the procedures loader; here
the demo supervisor becomes their lead (GroupLead), so overdue and 无法联系 notices reach someone.

With the demo accounts (``with_users``), four more 坐席 join the demo agent in 售后组 and 热线组 and
their calls over the last three weeks are replayed through the real services, each at its own time
(``now=`` on every call, so runs, events, follow-ups, attempts and notices agree):

- runs started with ``procedures.runs.start_run`` and moved with ``apply_move`` along a path (answers
  by step key, values typed as on the form), ending at outcomes whose steps carry follow-up rules, or
  with 升级 / 转接 handed to a group or a person;
- their follow-ups created as the ``run_ended`` receiver creates them (``handling.create_for_run``);
- follow-ups worked: through their procedure (``handling.start_work``, the 售后回访 or 维修次日电话回访 run
  with its satisfaction answer; 不满意 and 问题未解决 leave a 重办 chained to it), closed by hand
  (``handling.close``), attempts logged (``handling.log_attempt``: one 约定时间再联系, one 无法联系
  after failed attempts over three days), and others left pending, due today or overdue.

Idempotent: each call carries a ``DEMO-FU-…`` reference; a call already in the log is not replayed.
Practice runs are never made here (and would leave no follow-up).
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from kb_site.content import roles
from kb_site.content.profiles import AgentProfile
from kb_site.demo import DemoReport
from procedures import engine
from procedures.choices import EventAction, RunStatus, StepKind
from procedures.models import ProcedurePage, ProcedureRun
from procedures.runs import apply_move, start_run

from . import handling
from .choices import AttemptResult, Status
from .models import FollowUp, GroupLead

__all__ = ["AGENTS", "CALLS", "DemoFixtureError", "LEAD_GROUPS", "load"]

# The groups follow-up rules hand work to, led by the demo supervisor.
LEAD_GROUPS = ["售后组", "热线组", roles.SUPERVISOR]
LEADER = "supervisor"
AGENT_GROUPS = {"agent": ["售后组"]}

# More 坐席 for the history (published passwords, like every demo account).
AGENTS = [
    {
        "username": "agent2",
        "password": "callbook-agent2",
        "first_name": "小刘",
        "工号": "1011",
        "groups": ["售后组"],
    },
    {
        "username": "agent3",
        "password": "callbook-agent3",
        "first_name": "小林",
        "工号": "1012",
        "groups": ["售后组"],
    },
    {
        "username": "agent4",
        "password": "callbook-agent4",
        "first_name": "小何",
        "工号": "1013",
        "groups": ["热线组"],
    },
    {
        "username": "agent5",
        "password": "callbook-agent5",
        "first_name": "小马",
        "工号": "1014",
        "groups": ["热线组"],
    },
]

CALLBACK = "aftersales-callback-flow"
NEXT_DAY = "next-day-callback-flow"
SIX_STEPS = "complaint-six-steps-flow"
FIVE_STEPS = "complaint-five-steps"
HOTLINE = "hotline-intake-flow"
MISSING = "missing-item-flow"
WRONG = "wrong-item-flow"
POSTAL = "mail-query-complaint-flow"
MOVE_SECONDS = 40  # between two moves of a replayed call
MAX_MOVES = 60


class DemoFixtureError(ValueError):
    """A replayed call that does not go as written: the message names the call and the step."""


def _six(name, level="一般问题", answers=None, **extra):
    values = {
        "客户称呼": name,
        "投诉内容": "车辆维修后同一故障再次出现",
        "投诉类别": "维修质量（返修）",
        "问题级别": level,
        "补救措施": "安排技师今天下午免费复检",
        "处理结果": "更换故障配件并免费复检",
        "支持部门": "厂家技术支持部",
        "处理日期": "@today",
        "处理人": "王站长",
        "联系时间": "明天上午十点",
        **extra,
    }
    base = {"responsibility": "我们做得不到位", "difficulty": "能解决", "callback": "满意"}
    return values, {**base, **(answers or {})}


def _hotline(name, kind="技术质量问题", solved=False):
    values = {
        "客户称呼": name,
        "单位名称": "城东支行",
        "联系电话": "13800138000",
        "设备类型": "ATM",
        "故障现象": "取款时吞卡，屏幕提示硬件故障",
        "问题类型": kind,
        "工程师工号": "E207",
        "故障日期": "@today",
    }
    answers = {
        "direct": "能，有现成方案" if solved else "不能，需要转相关部门",
        "guide-ok": "已解决，客户满意",
    }
    return values, answers


def _five(name, can_solve=True, calls=2):
    values = {
        "客户称呼": name,
        "问题概述": "这个月电费比平时高了一倍",
        "投诉类型": "电费争议",
        "来电次数": str(calls),
        "问题要点": "怀疑抄表有误，要求核对电表读数",
        "客户诉求": "重新核对电表并退还多收电费",
        "答复天数": "3",
        "上级部门": "营销部",
    }
    answers = {"safety": "不涉及", "can-solve": "当场已解决" if can_solve else "需转相关部门处理"}
    return values, answers


def _missing(name):
    values = {
        "客户称呼": name,
        "订单号": "TB20261108001",
        "商品名称": "保温杯",
        "少货金额": "89",
        "天数": "2",
    }
    return values, {"ask-package": "完好", "confirmed": "确实少发", "negotiate": "补发"}


def _postal():
    values = {
        "邮件号码": "XA123456789CN",
        "邮件类型": "国内小包、快包",
        "寄出日期": "@days_ago:14",
        "处理中心": "西安邮区中心局",
        "处理部门": "西安邮区中心局",
    }
    return values, {"intent": "投诉邮件没收到"}


# The demo's calls: (ref, days ago, hour, agent, procedure slug, (values, answers), ending, work).
# ``ending``: None (the path's outcome), or (step key, 升级/转接 action, group name or username, reason).
# ``work``: what happened to the follow-ups the call left, in order of creation (see ``work_follow_up``).
CALLS = [
    # 售后组: the six-step complaint flow
    (
        "DEMO-FU-01",
        20,
        9,
        "agent2",
        SIX_STEPS,
        _six("陈先生"),
        None,
        [("close", 20, 15, "已电话答复：配件已到，明天上门更换")],
    ),
    (
        "DEMO-FU-02",
        19,
        10,
        "agent3",
        SIX_STEPS,
        _six("刘女士", "重大问题", {"difficulty": "重大投诉或多次处理仍无法解决"}),
        None,
        [
            ("close", 21, 16, "厂家技术支持部已派人处理，客户确认"),
            ("close", 22, 10, "厂家回复：发动机总成免费更换"),
        ],
    ),
    (
        "DEMO-FU-03",
        18,
        14,
        "agent",
        SIX_STEPS,
        _six("赵先生", answers={"callback": "不满意或问题反复"}),
        None,
        [("close", 18, 17, "已按时答复客户"), ("callback", 20, 10, "已解决", "满意")],
    ),
    (
        "DEMO-FU-04",
        15,
        11,
        "agent2",
        SIX_STEPS,
        _six("孙女士", answers={"callback": "不满意或问题反复"}),
        None,
        [
            ("close", 16, 9, "已答复"),
            ("callback", 17, 15, "已解决", "不满意", "维修后异响仍在，要求换件"),
            ("callback", 18, 11, "已解决", "较满意"),
        ],
    ),
    (
        "DEMO-FU-05",
        9,
        16,
        "agent3",
        SIX_STEPS,
        _six("周先生", answers={"callback": "不满意或问题反复"}),
        None,
        [
            ("close", 9, 18, "已答复"),
            ("callback", 11, 10, "未解决或问题反复", None, "更换配件后故障依旧"),
            ("open",),
        ],
    ),
    ("DEMO-FU-06", 2, 10, "agent", SIX_STEPS, _six("吴女士", "重大问题"), None, [("open",)]),
    ("DEMO-FU-07", 0, 9, "agent2", SIX_STEPS, _six("郑先生"), None, [("open",)]),
    # 电商：少货补发 → 3 日内回访（售后组）
    (
        "DEMO-FU-08",
        17,
        15,
        "agent",
        MISSING,
        _missing("钱女士"),
        None,
        [("callback", 19, 11, "已解决", "满意")],
    ),
    (
        "DEMO-FU-09",
        12,
        10,
        "agent3",
        MISSING,
        _missing("冯先生"),
        None,
        [("callback", 14, 16, "已解决", "较满意")],
    ),
    ("DEMO-FU-10", 6, 14, "agent2", MISSING, _missing("韩女士"), None, [("open",)]),  # overdue
    ("DEMO-FU-11", 1, 11, "agent", MISSING, _missing("杨先生"), None, [("open",)]),
    # 热线组: the hotline and its next-day callback
    ("DEMO-FU-12", 16, 9, "agent4", HOTLINE, _hotline("何经理"), None, [("nextday", 15, 10, "运行良好")]),
    (
        "DEMO-FU-13",
        14,
        13,
        "agent5",
        HOTLINE,
        _hotline("许主任", solved=True),
        None,
        [("nextday", 13, 9, "运行良好")],
    ),
    (
        "DEMO-FU-14",
        11,
        10,
        "agent4",
        HOTLINE,
        _hotline("罗经理", "服务质量问题"),
        None,
        [("nextday", 10, 15, "运行不好", "机器还是间歇吞卡"), ("close", 10, 17, "工程师已到场更换读卡器")],
    ),
    (
        "DEMO-FU-15",
        8,
        15,
        "agent5",
        HOTLINE,
        _hotline("高主任"),
        None,
        [("attempts", [(7, 10, "no_answer"), (6, 11, "switched_off"), (5, 15, "no_answer")])],
    ),  # 无法联系
    (
        "DEMO-FU-16",
        3,
        16,
        "agent4",
        HOTLINE,
        _hotline("梁经理"),
        None,
        [("attempts", [(2, 10, "no_answer"), (2, 16, "reschedule", 2)])],
    ),  # 约定时间再联系 (in two days)
    ("DEMO-FU-17", 1, 10, "agent5", HOTLINE, _hotline("宋主任"), None, [("open",)]),  # due today 18:00
    # 95598: five steps, special handling and 升级 / 转接 handoffs
    (
        "DEMO-FU-18",
        13,
        9,
        "agent",
        FIVE_STEPS,
        _five("唐女士"),
        None,
        [("callback", 15, 14, "已解决", "满意")],
    ),
    (
        "DEMO-FU-19",
        10,
        11,
        "agent3",
        FIVE_STEPS,
        _five("韩先生", can_solve=False),
        None,
        [("close", 12, 10, "营销部已核对电表，退还多收电费")],
    ),
    (
        "DEMO-FU-20",
        7,
        14,
        "agent",
        FIVE_STEPS,
        _five("曹女士"),
        ("can-solve", EventAction.ESCALATE, roles.SUPERVISOR, "客户要求主管出面，情绪激动"),
        [("close", 7, 16, "主管已致电客户，约定上门核表")],
    ),
    (
        "DEMO-FU-21",
        4,
        10,
        "agent2",
        FIVE_STEPS,
        _five("蒋先生"),
        ("listen", EventAction.TRANSFER, "热线组", "客户反映的是计量设备故障，转设备报修"),
        [("open",)],
    ),  # overdue handoff
    (
        "DEMO-FU-22",
        0,
        8,
        "agent3",
        FIVE_STEPS,
        _five("沈女士"),
        ("ask-info", EventAction.ESCALATE, "supervisor", "第三次来电仍未解决，要求升级"),
        [("open",)],
    ),
    (
        "DEMO-FU-23",
        5,
        9,
        "agent",
        POSTAL,
        _postal(),
        None,
        [("attempts", [(3, 10, "no_answer")])],
    ),  # in progress, overdue
    (
        "DEMO-FU-24",
        2,
        15,
        "agent2",
        FIVE_STEPS,
        _five("潘先生", can_solve=False),
        None,
        [("cancel", 1, 10, "客户来电表示已自行解决，不需回访")],
    ),
]


def at(days_ago, hour, minute=0, now=None):
    """A local time ``days_ago`` days before ``now`` at ``hour``: never later than ``now``."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    moment = (local - datetime.timedelta(days=days_ago)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    return min(moment, now - datetime.timedelta(minutes=30))


def _value(raw, when):
    """A fixture value as typed on the form: ``@today`` and ``@days_ago:N`` are dates from ``when``."""
    raw = str(raw)
    if raw == "@today":
        return timezone.localdate(when).isoformat()
    if raw.startswith("@days_ago:"):
        return (timezone.localdate(when) - datetime.timedelta(days=int(raw.split(":", 1)[1]))).isoformat()
    return raw


def _users():
    User = get_user_model()
    return {
        user.username: user
        for user in User.objects.filter(username__in=[a["username"] for a in AGENTS] + ["agent", LEADER])
    }


def ensure_leads(report):
    leader = get_user_model().objects.filter(username=LEADER).first()
    if leader is None:
        return
    for name in LEAD_GROUPS:
        group, created = Group.objects.get_or_create(name=name)
        report.add("groups", created)
        _lead, created = GroupLead.objects.get_or_create(group=group, defaults={"user": leader})
        report.add("group leads", created)


def ensure_agents(report):
    User = get_user_model()
    agent_role = Group.objects.get(name=roles.AGENT)
    for spec in [*AGENTS, {"username": "agent", "groups": AGENT_GROUPS["agent"]}]:
        user = User.objects.filter(username=spec["username"]).first()
        if user is None and "password" not in spec:
            continue  # the demo agent comes with the content's demo accounts
        if user is None:
            user = User.objects.create_user(
                spec["username"], password=spec["password"], first_name=spec["first_name"]
            )
            report.add("users", True)
        if spec.get("工号"):
            user.groups.add(agent_role)
            AgentProfile.objects.get_or_create(user=user, defaults={"employee_number": spec["工号"]})
        for name in spec["groups"]:
            user.groups.add(Group.objects.get_or_create(name=name)[0])


class Call:
    """Replays one call: the run along its path, then what happened to its follow-ups."""

    def __init__(self, spec, users, now):
        (
            self.ref,
            self.days_ago,
            self.hour,
            username,
            slug,
            (self.values, self.answers),
            self.ending,
            self.work,
        ) = spec
        self.user = users[username]
        self.users = users
        self.now = now
        self.page = ProcedurePage.objects.filter(slug=slug).first()
        if self.page is None:
            raise DemoFixtureError(f"{self.ref}: procedure {slug!r} not found (load the procedures first)")

    def fail(self, message):
        raise DemoFixtureError(f"{self.ref}: {message}")

    def play(self):
        started = at(self.days_ago, self.hour, now=self.now)
        run = drive(
            self.page,
            self.user,
            self.values,
            self.answers,
            started,
            ref=self.ref,
            ending=self.ending,
            fail=self.fail,
            users=self.users,
        )
        ending = EventAction(self.ending[1]) if self.ending else EventAction.OUTCOME
        follow_ups = handling.create_for_run(run, ending, now=run.finished_at)
        if not follow_ups:
            self.fail(f"ended at {run.current_step!r} ({run.outcome}) and left no follow-up")
        # Work items go to the follow-ups in order of creation, those a worked one leaves (重办) included.
        queue = list(follow_ups)
        for index, step in enumerate(self.work):
            if index >= len(queue):
                self.fail(f"work item {index + 1} has no follow-up to work")
            queue.extend(self.work_follow_up(queue[index], step) or [])

    def worker(self, follow_up):
        """Who works it: the assignee, else the first demo agent of its group (else the supervisor)."""
        if follow_up.assignee_id:
            return follow_up.assignee
        for user in self.users.values():
            if (
                follow_up.group_id
                and user.groups.filter(pk=follow_up.group_id).exists()
                and user.username != LEADER
            ):
                return user
        return self.users[LEADER]

    def work_follow_up(self, follow_up, step):
        action, *args = step
        if action == "open":
            return
        user = self.worker(follow_up)
        if action in ("close", "cancel"):
            days_ago, hour, text = args
            status = Status.DONE if action == "close" else Status.CANCELLED
            handling.close(follow_up, user, status, result="已处理" if action == "close" else "", notes=text)
            closed = at(days_ago, hour, now=self.now)
            FollowUp.objects.filter(pk=follow_up.pk).update(closed_at=max(closed, follow_up.created_at))
            return
        if action == "attempts":
            for attempt in args[0]:
                days_ago, hour, result, *rest = attempt
                when = max(at(days_ago, hour, now=self.now), follow_up.created_at)
                next_at = None
                if result == AttemptResult.RESCHEDULE:
                    next_at = (self.now + datetime.timedelta(days=rest[0])).replace(
                        minute=0, second=0, microsecond=0
                    )
                follow_up = handling.log_attempt(
                    follow_up,
                    user,
                    result,
                    note=f"第 {follow_up.attempts.count() + 1} 次联系",
                    next_at=next_at,
                    now=when,
                )
            return
        if action in ("callback", "nextday"):
            return self.callback(follow_up, user, action, *args)
        self.fail(f"unknown work {action!r}")

    def callback(self, follow_up, user, action, days_ago, hour, answer, satisfaction=None, reason=""):
        """Work the follow-up through its procedure, as the agent does from the queue."""
        when = max(at(days_ago, hour, now=self.now), follow_up.created_at + datetime.timedelta(minutes=30))
        handling.log_attempt(follow_up, user, AttemptResult.ANSWERED, note="客户已接听", now=when)
        run = handling.start_work(follow_up, user)
        # start_work starts the run now: it is dated when the call was made, as every other move (the
        # 回访 procedures open on a step the agent acts on, so no event is logged yet; events are
        # append-only).
        if run.events.exists():
            self.fail(f"{follow_up.procedure}: the work run moved by itself; it cannot be dated back")
        ProcedureRun.objects.filter(pk=run.pk).update(
            started_at=when, last_activity_at=when, step_entered_at=when
        )
        run.refresh_from_db()
        source = follow_up.source_run
        values = {"客户称呼": "客户", **run.variables}
        if action == "nextday":
            answers = {"call": answer}
            fault_day = timezone.localdate(source.finished_at or source.started_at)
            values.update({"工程师工号": "E207", "故障日期": fault_day.isoformat(), "客户反馈": reason})
        else:
            answers = {"resolved": answer}
            values.update({"满意度": satisfaction or "", "不满意原因": reason})
        run = drive(None, user, values, answers, when, run=run, fail=self.fail)
        # What the run_ended receiver does, now (inside the load's transaction it would run on commit).
        handling.finish_work(run, EventAction.OUTCOME)
        return handling.create_for_run(run, EventAction.OUTCOME, now=run.finished_at)


def drive(page, user, values, answers, started, *, run=None, ref="", ending=None, fail, users=None):
    """Start (or go on with) a run and move it along: answers by step key (else the first answer), input
    values from ``values`` (typed as on the form), checklists ticked; ``ending`` leaves at its step with
    升级 / 转接 to a group or user. Every move is ``MOVE_SECONDS`` after the last."""
    moment = started
    if run is None:
        procedure = page.to_procedure()
        collected = {
            name
            for step in procedure.steps
            if step.get("kind") == StepKind.INPUT
            for name in step["variables"]
        }
        start_values = {
            name: engine.clean_value(procedure.variables[name], _value(value, moment))
            for name, value in values.items()
            if name in procedure.variables and name not in collected
        }
        run = start_run(page, user, variables=start_values, ref=ref, now=moment)
    procedure = run.get_procedure()
    for _move in range(MAX_MOVES):
        if run.status != RunStatus.IN_PROGRESS:
            return run
        moment += datetime.timedelta(seconds=MOVE_SECONDS)
        step = procedure.step(run.current_step)
        kind = step.get("kind")
        move = {"step": run.current_step, "seq": run.next_seq, "action": EventAction.NEXT, "now": moment}
        if ending and ending[0] == run.current_step:
            target = ending[2]
            group = Group.objects.filter(name=target).first()
            handoff_user = None if group else (users or {}).get(target)
            move.update(
                action=ending[1],
                note=ending[3],
                handoff={"reason": ending[3], "group": group, "user": handoff_user},
            )
        elif kind == StepKind.QUESTION:
            labels = [answer.get("label") for answer in step.get("answers") or []]
            wanted = answers.get(run.current_step, labels[0])
            if wanted not in labels:
                fail(f"step {run.current_step!r} has no answer {wanted!r} ({' / '.join(labels)})")
            move.update(action=EventAction.ANSWER, answer=labels.index(wanted))
        elif kind == StepKind.INSTRUCTION:
            move["checked"] = tuple(range(len(step.get("checklist") or [])))
        elif kind == StepKind.INPUT:
            inputs = {}
            for name in step.get("variables") or []:
                try:
                    inputs[name] = engine.clean_value(
                        procedure.variables[name], _value(values.get(name, ""), moment)
                    )
                except ValueError as error:
                    fail(f"step {run.current_step!r}, {name}: {error}")
            move["inputs"] = inputs
        lines = engine.must_say_lines(step)
        if lines:
            # 必说 lines ticked as said, but not always the last one on every fourth move: the
            # 必说话术勾选率 report then has rates to show.
            move["said"] = lines if run.next_seq % 4 else lines[:-1]
        try:
            run = apply_move(run.pk, user, **move)
        except (engine.MoveRejected, engine.InputError) as error:
            fail(f"step {run.current_step!r}: {error}")
    fail(f"the run did not end within {MAX_MOVES} moves")


def load(update=False, report=None, with_users=True, **options):
    """Group leads and, with the demo accounts, the follow-up history. Returns the report."""
    report = report if report is not None else DemoReport()
    with transaction.atomic():
        ensure_leads(report)
        if not with_users:
            return report
        ensure_agents(report)
        users = _users()
        now = timezone.now()
        done = set(ProcedureRun.objects.filter(ref__startswith="DEMO-FU-").values_list("ref", flat=True))
        for spec in CALLS:
            created = spec[0] not in done
            if created:
                Call(spec, users, now).play()
            report.add("follow-up calls", created)
    return report
