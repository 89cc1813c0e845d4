"""The story map: nodes and the ways between them, as Graphviz DOT or a Mermaid flowchart.

Endings, hubs and events are marked by shape; choices are edges labelled with their text,
condition and cost; `goto`, `branch` and `random` are edges too, hubs reach their events by
dotted edges, and `<hub>` / `<end-turn>` are small nodes of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.story import END_TURN, HUB, Story
from .ir import effect_text, nodes, template_text, unparse

LABEL_WIDTH = 48
START, HUB_NODE, END_TURN_NODE = "<start>", "<hub>", "<end-turn>"


@dataclass
class MapNode:
    """A node on the map (or a special one: start, <hub>, <end-turn>, or a stub outside the scene)."""

    key: str
    label: str
    kind: str  # node, ending, hub, event, forced, special, stub
    scene: str = ""
    category: str = ""


@dataclass
class MapEdge:
    """A way from one node to another."""

    src: str
    dst: str
    label: str
    kind: str  # choice, goto, branch, random, event, fallback, special


@dataclass
class StoryMap:
    """Everything the DOT and Mermaid writers draw."""

    title: str
    nodes: dict[str, MapNode] = field(default_factory=dict)
    edges: list[MapEdge] = field(default_factory=list)


def _short(text: str, width: int = LABEL_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _cost(cost: Any, story: Story) -> str:
    return ", ".join(f"{unparse(amount, story)} {story.variables[slot].unit}" for slot, amount in cost)


def _choice_label(c: Mapping[str, Any], story: Story, text_key: str = "text") -> str:
    lines = [_short(template_text(c[text_key], story)) or "(fallback)"]
    if c.get("if") is not None:
        lines.append(_short(f"if {unparse(c['if'], story)}"))
    if c.get("cost"):
        lines.append(_short(f"cost {_cost(c['cost'], story)}"))
    if c.get("once"):
        lines.append("once")
    return "\n".join(lines)


def build_map(story: Story, scene: str | None = None) -> StoryMap:
    """The map of the whole story, or of one scene (and its sub-scenes) with stubs for the rest.

    ValueError if no node is in `scene`.
    """

    def inside(node_scene: str) -> bool:
        return scene is None or node_scene == scene or node_scene.startswith(scene + ".")

    m = StoryMap(story.title)
    chosen = [(i, ir) for i, ir in nodes(story) if inside(ir["scene"])]
    if not chosen:
        scenes = sorted({ir["scene"] for _i, ir in nodes(story)})
        raise ValueError(f"no scene '{scene}'; the scenes are: {', '.join(scenes)}")
    hubs = [i for i, ir in nodes(story) if ir["hub"] is not None]
    turns = story.ir_turns()

    def key(target: int) -> str:
        if target == HUB:
            return HUB_NODE
        if target == END_TURN:
            return END_TURN_NODE
        return story.node_ids[target]

    def ensure(target: int) -> str:
        k = key(target)
        if k in m.nodes:
            return k
        if target == HUB:
            m.nodes[k] = MapNode(k, "<hub>\nback to the last hub", "special")
            for h in hubs:
                m.edges.append(MapEdge(k, ensure(h), "", "special"))
        elif target == END_TURN:
            m.nodes[k] = MapNode(k, "<end-turn>\nend-of-turn rules", "special")
            if turns is not None and turns["hub"] is not None:
                m.edges.append(MapEdge(k, ensure(turns["hub"]), "next turn", "special"))
        else:
            ir = story.ir_node(target)
            m.nodes[k] = MapNode(k, f"{k}\n(in {ir['scene']})", "stub", ir["scene"])
        return k

    for i, ir in chosen:
        k = story.node_ids[i]
        label = k if not ir["title"] else f"{k}\n{_short(ir['title'])}"
        kind, category = "node", ""
        if ir["ending"]:
            e = ir["ending"]
            kind, category = "ending", e["category"]
            who = f" ({story.characters[e['character']].name})" if e["character"] is not None else ""
            label += f"\nENDING {e['id']}{who}" + (f": {e['category']}" if e["category"] else "")
        elif ir["event"] is not None:
            kind = "forced" if ir["event"]["forced"] else "event"
            label += "\nFORCED EVENT" if kind == "forced" else "\nEVENT"
        elif ir["hub"] is not None:
            kind = "hub"
            label += "\nHUB"
        m.nodes[k] = MapNode(k, label, kind, ir["scene"], category)
    if scene is None or inside(story.ir_node(story.start)["scene"]):
        m.nodes[START] = MapNode(START, "start", "special")
        m.edges.append(MapEdge(START, story.node_ids[story.start], "", "special"))
    for i, ir in chosen:
        k = story.node_ids[i]
        nav = ir["nav"]
        if nav[0] == "goto":
            m.edges.append(MapEdge(k, ensure(nav[1]), "", "goto"))
        elif nav[0] == "random":
            for weight, effects, target in nav[1]:
                label = f"random, weight {unparse(weight, story)}"
                if effects:
                    label += "\n" + _short("; ".join(effect_text(s, story) for s in effects))
                m.edges.append(MapEdge(k, ensure(target), label, "random"))
        elif nav[0] == "branch":
            for cond, effects, target in nav[1]:
                label = _short(f"if {unparse(cond, story)}") if cond is not None else "otherwise"
                if effects:
                    label += "\n" + _short("; ".join(effect_text(s, story) for s in effects))
                m.edges.append(MapEdge(k, ensure(target), label, "branch"))
        for c in ir["choices"]:
            if c:
                m.edges.append(
                    MapEdge(
                        k,
                        ensure(c["goto"]),
                        _choice_label(c, story),
                        "fallback" if c["fallback"] else "choice",
                    )
                )
    # Hubs offer events: drawn from every hub in the map, and from stubs of the hubs outside
    # it that offer the map's events.
    chosen_ids = {i for i, _ir in chosen}
    for h in hubs:
        hub = story.ir_node(h)["hub"]
        tags = hub["tags"] if hub is not None else None
        for e_index, e_ir in nodes(story):
            event = e_ir["event"]
            if event is None or (h not in chosen_ids and e_index not in chosen_ids):
                continue
            if tags and not (event["tags"] and set(tags) & set(event["tags"])):
                continue  # a tagged hub offers only events that share a tag
            label = _choice_label(event, story, "title")
            if event["forced"]:
                label = "forced: " + label
            m.edges.append(MapEdge(ensure(h), ensure(e_index), label, "event"))
    return m


# -- Graphviz DOT --------------------------------------------------------------------------

_DOT_SHAPES = {
    "node": 'shape=box, style="rounded"',
    "ending": 'shape=doubleoctagon, style="filled", fillcolor="#f3e6c4"',
    "hub": 'shape=house, style="filled", fillcolor="#d8e8f4"',
    "event": 'shape=box, style="rounded,filled", fillcolor="#e4f2df"',
    "forced": 'shape=box, style="rounded,filled,bold", fillcolor="#f6d8d2"',
    "special": 'shape=ellipse, style="dashed", fontsize=10',
    "stub": 'shape=box, style="dashed", fontcolor="#666666"',
}
_DOT_EDGES = {
    "choice": "",
    "goto": "style=bold",
    "branch": 'color="#3366aa"',
    "random": 'style=dashed, color="#aa6633"',
    "event": 'style=dotted, color="#338833"',
    "fallback": 'style=dashed, color="#888888"',
    "special": 'style=dashed, color="#888888"',
}


def dot_quote(text: str) -> str:
    """A DOT double-quoted string (newlines become centred line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(m: StoryMap) -> str:
    """The map as a Graphviz digraph, one cluster per scene."""
    out = [
        "digraph story {",
        f"  label={dot_quote(m.title)};",
        "  labelloc=t;",
        "  rankdir=LR;",
        "  newrank=true;",  # clusters plus edges between them otherwise trip dot's ranking
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    by_scene: dict[str, list[MapNode]] = {}
    for n in m.nodes.values():
        by_scene.setdefault(n.scene if n.kind not in ("special", "stub") else "", []).append(n)
    for number, (scene, members) in enumerate(sorted(by_scene.items())):
        indent = "  "
        if scene:
            out.append(f"  subgraph cluster_{number} {{")
            out.append(f"    label={dot_quote(scene)};")
            out.append('    style="rounded"; color="#bbbbbb";')
            indent = "    "
        for n in members:
            out.append(f"{indent}{dot_quote(n.key)} [label={dot_quote(n.label)}, {_DOT_SHAPES[n.kind]}];")
        if scene:
            out.append("  }")
    for e in m.edges:
        attrs = [f"label={dot_quote(e.label)}"] if e.label else []
        if _DOT_EDGES[e.kind]:
            attrs.append(_DOT_EDGES[e.kind])
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"  {dot_quote(e.src)} -> {dot_quote(e.dst)}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


# -- Mermaid ---------------------------------------------------------------------------------

_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;"}


def mermaid_text(text: str) -> str:
    """Text for inside a Mermaid "quoted" label: entities for the characters Mermaid reads."""
    out = "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)
    return out.replace("\n", "<br/>")


_MERMAID_SHAPES = {
    "node": ('["', '"]'),
    "ending": ('(["', '"])'),
    "hub": ('{{"', '"}}'),
    "event": ('>"', '"]'),
    "forced": ('>"', '"]'),
    "special": ('(("', '"))'),
    "stub": ('["', '"]'),
}
_MERMAID_ARROWS = {
    "choice": "-->",
    "goto": "==>",
    "branch": "-->",
    "random": "-.->",
    "event": "-.->",
    "fallback": "-.->",
    "special": "-.->",
}


def to_mermaid(m: StoryMap) -> str:
    """The map as a Mermaid flowchart, one subgraph per scene."""
    ids = {key: f"n{i}" for i, key in enumerate(m.nodes)}
    out = ["---", f"title: {_yaml_scalar(m.title)}", "---", "flowchart LR"]
    by_scene: dict[str, list[MapNode]] = {}
    for n in m.nodes.values():
        by_scene.setdefault(n.scene if n.kind not in ("special", "stub") else "", []).append(n)
    for number, (scene, members) in enumerate(sorted(by_scene.items())):
        indent = "    "
        if scene:
            out.append(f'    subgraph s{number}["{mermaid_text(scene)}"]')
            indent = "        "
        for n in members:
            left, right = _MERMAID_SHAPES[n.kind]
            out.append(f"{indent}{ids[n.key]}{left}{mermaid_text(n.label)}{right}")
        if scene:
            out.append("    end")
    for e in m.edges:
        arrow = _MERMAID_ARROWS[e.kind]
        label = f'|"{mermaid_text(e.label)}"|' if e.label else ""
        out.append(f"    {ids[e.src]} {arrow}{label} {ids[e.dst]}")
    classes = {
        "ending": "fill:#f3e6c4,stroke:#8a6d1e",
        "hub": "fill:#d8e8f4,stroke:#2f5d82",
        "event": "fill:#e4f2df,stroke:#3b7a2e",
        "forced": "fill:#f6d8d2,stroke:#a33b26",
        "special": "fill:#ffffff,stroke:#888888,stroke-dasharray: 4 3",
        "stub": "fill:#ffffff,stroke:#888888,stroke-dasharray: 4 3,color:#666666",
    }
    for kind, style in classes.items():
        keys = [ids[n.key] for n in m.nodes.values() if n.kind == kind]
        if keys:
            out.append(f"    classDef {kind} {style}")
            out.append(f"    class {','.join(keys)} {kind}")
    return "\n".join(out) + "\n"


def _yaml_scalar(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
