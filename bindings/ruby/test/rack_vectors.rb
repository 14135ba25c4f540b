# frozen_string_literal: true

# Runs tests/vectors/requests.json through Oidc::Rack::BearerAuth (wrapped in Rack::Lint), as a
# Rack server would call it, and compares what goes back on the wire (status, each
# WWW-Authenticate line, DPoP-Nonce, the body's error) and what the app sees (claims `sub`,
# token type) with each case's "expect"; the code from env["oidc.decision"].
#
# A separate process (test/request_vectors_test.rb starts it): the vectors run once per process.
#
#   ruby -Ilib test/rack_vectors.rb [tests/vectors/requests.json]
#
# Rack-specific: repeated header lines reach the app folded into one value joined by ", " (one
# env entry per header name), so a case with two Authorization or DPoP lines is sent folded;
# the certificate is given as PEM in env["SSL_CLIENT_CERT"], as Apache/Passenger do.

require "oidc"
require "rack"
require "rack/mock"
require "rack/lint"
require "delegate"
require_relative "request_vectors_support"

# The vectors' fixed clock: Client#authenticate with now: (the middleware uses the clock).
class FixedClockClient < SimpleDelegator
  def initialize(client, now)
    super(client)
    @now = now
  end

  def authenticate(**kw)
    __getobj__.authenticate(**kw, now: @now)
  end
end

include RequestVectors # rubocop:disable Style/MixinUsage

path = ARGV[0] || RequestVectors::REQUEST_VECTORS
v = RequestVectors.load(path)
RequestVectors.claim!
clients = v.fetch("clients").to_h do |name, cfg|
  [name, FixedClockClient.new(RequestVectors.client(cfg, v.fetch("jwks")), v.fetch("now"))]
end
multi = Rack.release.to_i >= 3
diffs = []
v.fetch("cases").each do |c|
  r = c.fetch("request")
  seen = {}
  app = lambda do |env|
    seen = { "sub" => env["oidc.claims"].subject, "token_type" => env["oidc.token_type"] }
    [200, { "content-type" => "text/plain" }, ["ok"]]
  end
  mw = Oidc::Rack::BearerAuth.new(Rack::Lint.new(app), client: clients.fetch(c.fetch("client")))
  env = Rack::MockRequest.env_for(r.fetch("url"), method: r.fetch("method"))
  auth = Array(r["authorization"])
  dpop = Array(r["dpop"])
  env["HTTP_AUTHORIZATION"] = auth.join(", ") unless auth.empty?
  env["HTTP_DPOP"] = dpop.join(", ") unless dpop.empty?
  if (b64 = r["client_cert_b64"])
    env["SSL_CLIENT_CERT"] = "-----BEGIN CERTIFICATE-----\n#{[b64.unpack1('m0')].pack('m')}-----END CERTIFICATE-----\n"
  end
  status, headers, body = Rack::Lint.new(mw).call(env)
  text = +""
  body.each { |s| text << s }
  body.close if body.respond_to?(:close)
  www = headers["www-authenticate"]
  lines = www.nil? ? [] : (multi ? Array(www) : www.split("\n"))
  d = env["oidc.decision"]
  got = c.fetch("expect").keys.to_h do |k|
    [k, case k
        when "allowed" then status == 200 && !seen.empty?
        when "code" then d&.code
        when "code_name" then d&.name
        when "status" then status
        when "error" then status == 200 ? nil : JSON.parse(text)["error"]
        when "challenges" then lines
        when "dpop_nonce" then headers["dpop-nonce"]
        when "token_type" then seen["token_type"]
        when "sub" then seen["sub"]
        else :unknown_member
        end]
  end
  folded = auth.size > 1 || dpop.size > 1 ? " (header lines folded by Rack)" : ""
  diff = RequestVectors.diff("#{c['name']}#{folded}", c["expect"], got)
  diffs << diff if diff
end
puts diffs
puts "rack vectors: #{v['cases'].size} cases, #{diffs.size} differ"
exit(diffs.empty? ? 0 : 1)
