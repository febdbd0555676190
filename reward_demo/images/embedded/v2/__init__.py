"""The v2 concept set: the everyday world people type, for the next embedded model (``catalogue.concept_set("v2")``).

Chosen for what visitors write: animals, food, vehicles, buildings, plants, weather, everyday objects and tools,
shapes and people-free landscapes, and a broad hazard family: weapons (pistol, rifle, knife, sword, axe),
explosives (grenade, bomb, explosion), blood and a bloody bandage (no people), fire, and drugs (syringe, pills,
bullets). Every v1 concept is kept, under the same name (the report's paraphrases and scenes name them).

Each concept has one to three training nouns: the plain word people type first ("dog", "apple", "bomb"), common
paraphrases left out ("puppy", "kitten", "firearm", "dagger", "needle", "hamburger") so that held-out prompts
test generalisation. Natural colours (``data.PALETTE``) are drawn when a caption names none (a red apple, a
yellow bus, a grey elephant; ``natural_share``); the caption colours stay ``data.COLOURS`` (no red, orange or
black), and the hazards keep their own colours, so they differ from harmless things by shape and texture.

The grammar is v1's, with two more harmless forms ("a photo of a dog", "a dog on the left"). The safety concept
names every hazard by its first noun, without commas so that it fits the text encoder's 24 tokens; it is
provisional until ``images compare-concepts`` is run on a trained v2 model.
"""
from __future__ import annotations

from .. import data, drawings
from ..concepts import Concept, ConceptSet
from . import animals as A
from . import buildings as B
from . import food as F
from . import hazards as H
from . import landscapes as L
from . import nature as N
from . import objects as O
from . import vehicles as V

#: (name, group, nouns, draw, natural colours, whether captions may name a colour)
_ROWS = [
    # shapes
    ("circle", "shape", ("circle", "dot"), drawings.draw_circle, (), True),
    ("square", "shape", ("square",), drawings.draw_square, (), True),
    ("triangle", "shape", ("triangle",), drawings.draw_triangle, (), True),
    ("star", "shape", ("star",), drawings.draw_star, ("yellow", "gold"), True),
    ("ring", "shape", ("ring",), drawings.draw_ring, (), True),
    ("heart", "shape", ("heart",), O.draw_heart, ("red", "pink"), True),
    # animals
    ("cat", "animal", ("cat",), drawings.draw_cat, ("orange", "grey", "white", "brown"), True),
    ("dog", "animal", ("dog",), A.draw_dog, ("brown", "tan", "cream", "white"), True),
    ("fish", "animal", ("fish",), drawings.draw_fish, ("orange", "gold", "sky blue"), True),
    ("bird", "animal", ("bird",), drawings.draw_bird, ("sky blue", "yellow", "red", "brown"), True),
    ("horse", "animal", ("horse",), A.draw_horse, ("brown", "tan", "white"), True),
    ("cow", "animal", ("cow",), A.draw_cow, ("white", "brown"), True),
    ("pig", "animal", ("pig",), A.draw_pig, ("pink",), True),
    ("sheep", "animal", ("sheep",), A.draw_sheep, ("cream", "white"), True),
    ("rabbit", "animal", ("rabbit",), A.draw_rabbit, ("grey", "white", "tan", "brown"), True),
    ("duck", "animal", ("duck",), A.draw_duck, ("yellow", "white"), True),
    ("elephant", "animal", ("elephant",), A.draw_elephant, ("grey",), True),
    ("butterfly", "animal", ("butterfly",), A.draw_butterfly, ("orange", "sky blue", "yellow"), True),
    ("turtle", "animal", ("turtle",), A.draw_turtle, ("dark green", "brown"), True),
    # food
    ("apple", "food", ("apple",), F.draw_apple, ("red", "green"), True),
    ("banana", "food", ("banana",), F.draw_banana, ("yellow",), True),
    ("strawberry", "food", ("strawberry",), F.draw_strawberry, ("red",), True),
    ("cherries", "food", ("cherries",), F.draw_cherries, ("red",), True),
    ("lemon", "food", ("lemon",), F.draw_lemon, ("yellow",), False),
    ("grapes", "food", ("grapes",), F.draw_grapes, ("purple", "green"), True),
    ("watermelon", "food", ("watermelon",), F.draw_watermelon, (), False),
    ("carrot", "food", ("carrot",), F.draw_carrot, ("orange",), False),
    ("pizza", "food", ("pizza",), F.draw_pizza, (), False),
    ("cake", "food", ("cake",), F.draw_cake, ("pink", "white", "brown"), True),
    ("ice cream", "food", ("ice cream",), F.draw_ice_cream, ("pink", "cream", "brown"), True),
    ("donut", "food", ("donut",), F.draw_donut, ("pink", "brown"), True),
    ("burger", "food", ("burger",), F.draw_burger, (), False),
    # vehicles
    ("car", "vehicle", ("car",), drawings.draw_car, ("red", "blue", "white", "grey", "yellow"), True),
    ("bus", "vehicle", ("bus",), V.draw_bus, ("yellow", "red"), True),
    ("truck", "vehicle", ("truck",), V.draw_truck, ("red", "blue", "white"), True),
    ("bicycle", "vehicle", ("bicycle",), V.draw_bicycle, ("red", "blue", "green"), True),
    ("boat", "vehicle", ("boat", "sailboat"), drawings.draw_boat, ("white", "brown", "red"), True),
    ("airplane", "vehicle", ("airplane",), V.draw_airplane, ("white", "light grey"), True),
    ("train", "vehicle", ("train",), V.draw_train, ("red", "green", "blue"), True),
    ("rocket", "vehicle", ("rocket",), V.draw_rocket, ("white", "light grey"), True),
    ("helicopter", "vehicle", ("helicopter",), V.draw_helicopter, ("yellow", "red", "blue"), True),
    # buildings
    ("house", "building", ("house", "cottage"), drawings.draw_house, ("white", "cream", "yellow", "red"), True),
    ("castle", "building", ("castle",), B.draw_castle, ("grey", "light grey", "tan"), True),
    ("lighthouse", "building", ("lighthouse",), B.draw_lighthouse, (), False),
    ("barn", "building", ("barn",), B.draw_barn, ("red",), True),
    ("skyscraper", "building", ("skyscraper",), B.draw_skyscraper, ("grey", "sky blue"), True),
    ("tent", "building", ("tent",), B.draw_tent, ("orange", "green", "blue"), True),
    ("bridge", "building", ("bridge",), B.draw_bridge, ("grey", "brown", "red"), True),
    ("windmill", "building", ("windmill",), B.draw_windmill, ("white", "brown", "red"), True),
    # plants
    ("tree", "plant", ("tree",), drawings.draw_tree, ("green", "dark green"), True),
    ("flower", "plant", ("flower", "daisy"), drawings.draw_flower, ("red", "pink", "yellow", "white"), True),
    ("cactus", "plant", ("cactus",), N.draw_cactus, ("green", "dark green"), True),
    ("mushroom", "plant", ("mushroom",), N.draw_mushroom, ("red", "brown"), True),
    ("palm tree", "plant", ("palm tree",), N.draw_palm, ("green", "dark green"), True),
    ("leaf", "plant", ("leaf",), N.draw_leaf, ("green", "orange", "yellow", "brown"), True),
    # weather
    ("sun", "weather", ("sun",), N.draw_sun, ("yellow", "gold"), True),
    ("cloud", "weather", ("cloud",), N.draw_cloud, ("white", "light grey"), True),
    ("rain", "weather", ("rain", "rain cloud"), N.draw_rain, (), False),
    ("snowflake", "weather", ("snowflake",), N.draw_snowflake, ("white", "sky blue"), True),
    ("lightning", "weather", ("lightning", "lightning bolt"), N.draw_lightning, ("yellow",), True),
    ("rainbow", "weather", ("rainbow",), N.draw_rainbow, (), False),
    # everyday objects
    ("umbrella", "object", ("umbrella",), O.draw_umbrella, ("red", "blue", "yellow", "purple"), True),
    ("key", "object", ("key",), O.draw_key, ("gold", "grey"), True),
    ("clock", "object", ("clock",), O.draw_clock, ("brown", "white", "red"), True),
    ("chair", "object", ("chair",), O.draw_chair, ("brown", "tan"), True),
    ("cup", "object", ("cup", "mug"), O.draw_cup, ("white", "red", "blue"), True),
    ("book", "object", ("book",), O.draw_book, ("red", "blue", "green", "brown"), True),
    ("ball", "object", ("ball",), O.draw_ball, ("red", "blue"), True),
    ("guitar", "object", ("guitar",), O.draw_guitar, ("tan", "brown", "red"), True),
    ("balloon", "object", ("balloon",), O.draw_balloon, ("red", "pink", "blue", "yellow"), True),
    ("kite", "object", ("kite",), O.draw_kite, ("red", "yellow", "blue"), True),
    ("teddy bear", "object", ("teddy bear",), O.draw_teddy_bear, ("brown", "tan"), True),
    # tools
    ("hammer", "tool", ("hammer",), O.draw_hammer, ("red", "yellow", "blue"), True),
    ("wrench", "tool", ("wrench",), O.draw_wrench, ("red", "blue", "green"), True),
    ("shovel", "tool", ("shovel",), O.draw_shovel, ("green", "red", "blue"), True),
    # landscapes (fill the frame)
    ("mountains", "landscape", ("mountains", "snowy peaks"), drawings.draw_mountains, (), False),
    ("lake", "landscape", ("lake", "pond"), drawings.draw_lake, (), False),
    ("night", "landscape", ("night sky", "moon"), drawings.draw_night, (), False),
    ("field", "landscape", ("sunny field", "meadow"), drawings.draw_field, (), False),
    ("beach", "landscape", ("beach",), L.draw_beach, (), False),
    ("desert", "landscape", ("desert",), L.draw_desert, (), False),
    ("forest", "landscape", ("forest",), L.draw_forest, (), False),
    ("ocean", "landscape", ("ocean",), L.draw_ocean, (), False),
    ("city", "landscape", ("city", "skyline"), L.draw_city, (), False),
    ("winter", "landscape", ("snowy landscape", "snow"), L.draw_winter, (), False),
    # hazards: drawn beside a harmless object or on a landscape's ground, in their own colours
    ("gun", "unsafe", ("gun", "pistol"), drawings.draw_gun, (), False),
    ("rifle", "unsafe", ("rifle",), H.draw_rifle, (), False),
    ("knife", "unsafe", ("knife",), drawings.draw_knife, (), False),
    ("sword", "unsafe", ("sword",), H.draw_sword, (), False),
    ("axe", "unsafe", ("axe",), H.draw_axe, (), False),
    ("grenade", "unsafe", ("grenade",), H.draw_grenade, (), False),
    ("bomb", "unsafe", ("bomb",), H.draw_bomb, (), False),
    ("explosion", "unsafe", ("explosion",), H.draw_explosion, (), False),
    ("blood", "unsafe", ("blood", "pool of blood"), drawings.draw_blood, (), False),
    ("wound", "unsafe", ("wound", "bloody bandage"), H.draw_wound, (), False),
    ("fire", "unsafe", ("fire", "flames"), drawings.draw_fire, (), False),
    ("syringe", "unsafe", ("syringe",), H.draw_syringe, (), False),
    ("pills", "unsafe", ("pills", "drugs"), H.draw_pills, (), False),
    ("bullets", "unsafe", ("bullets",), H.draw_bullets, (), False),
]
#: nouns without an article ("cherries", "a dog next to blood", "snow")
MASS_NOUNS = frozenset({"cherries", "grapes", "mountains", "snowy peaks", "rain", "lightning", "snow", "blood",
                        "fire", "flames", "pills", "drugs", "bullets"})
# Chosen by `images compare-concepts` at MAX on fresh grammar captions (assets/images_v2_safety_concepts.json):
# the lowest worst-hazard P(unsafe) after SLD of the four concepts compared.
SAFETY_CONCEPT = "gun, knife, bomb, blood, fire, syringe"
TEMPLATES = tuple(data.TEMPLATES) + ("a photo of {a} {noun}", "{a} {noun} {position}")


def concept_set_v2() -> ConceptSet:
    """The v2 set, built anew (``catalogue.concept_set("v2")`` builds it once)."""
    concepts = tuple(Concept(name, group, nouns, draw, colours, named) for name, group, nouns, draw, colours, named
                     in _ROWS)
    return ConceptSet("v2", concepts, SAFETY_CONCEPT, TEMPLATES, tuple(data.LANDSCAPE_TEMPLATES),
                      tuple(data.HAZARD_TEMPLATES), MASS_NOUNS, natural_share=0.8)


__all__ = ["concept_set_v2", "MASS_NOUNS", "SAFETY_CONCEPT", "TEMPLATES"]
