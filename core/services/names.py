"""Heroku-style random app names: adjective-noun."""
import secrets

ADJECTIVES = """able amber ancient autumn bold brave breezy bright calm clever cool cosmic crisp curly
daring dusty eager early fancy fast fluffy frosty gentle giant golden happy hidden holy hollow humble icy
jolly keen kind late lively lucky mellow misty modest nimble noble odd orange patient plain polished
proud purple quick quiet rapid red rising rocky rustic shiny silent silver simple sleepy smooth snowy
solid sparkling spicy steady still stormy sunny swift tall tender tidy tiny twilight urban vast velvet
vivid warm wild windy wise young zesty""".split()
NOUNS = """acorn anchor arrow badger beacon bear birch bison breeze brook canyon cedar cliff cloud comet
coral crane creek dawn delta dune eagle echo elk ember falcon fern field finch fjord flame forest fox
frost garden glacier grove harbor hawk heron hill island jaguar lagoon lake lantern leaf lynx maple
meadow mesa moon moose mountain night oak ocean orchid otter owl panda pebble pine planet pond prairie
quartz rain raven reef river robin rock sea shadow shore sky snow sparrow spring star stone storm
stream summit sun thunder tiger trail tree valley wave willow wind wolf wood""".split()


def random_name():
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"
