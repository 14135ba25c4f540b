# frozen_string_literal: true

# A second process for test/replay_store_test.rb: one authenticate with the given proof, with
# the Redis-backed replay store when a port is given; prints the decision's code name. Keys from
# a static "jwks", or the issuer's (discovery; "ca_file" for the test IdP).
require "oidc"
require "json"
require_relative "resp_redis"

m = JSON.parse(ARGV.fetch(0))
redis = m["port"] && RespRedis.new(m["port"])
c = Oidc::Client.new(issuer: m["iss"], audiences: m["aud"], jwks_json: m["jwks"], ca_file: m["ca_file"],
                     dpop_replay_store: redis && ->(k, t) { redis.set_nx(k, t) })
d = c.authenticate(method: "GET", url: m["url"], authorization: "DPoP #{m['token']}", dpop: m["proof"])
puts d.name
