# frozen_string_literal: true

# RS256 validation: liboidc through this binding vs ruby-jwt (Debian ruby-jwt), same tokens,
# same key (warm: liboidc gets it as a static JWKS, which is exactly what a warm cache looks
# like to it; ruby-jwt gets the RSA public key built from the same JWK), same checks (signature,
# iss, aud, exp/nbf/iat with 60 s leeway), and both read the `sub` claim from the result, so
# the binding's time includes everything a caller gets: the C call with the GVL released,
# copying the claims JSON and parsing it (Oidc::Claims parses on first access; the row
# "binding, claims unread" shows the call without that parse, for callers that only need the
# decision). Rounds alternate between the two so both see the same machine load; the median
# round counts. Rates are per CPU second of this thread (CLOCK_THREAD_CPUTIME_ID, which does
# not count time the thread was preempted on a shared machine) and, for reference, per wall
# second.
#
#   OIDC_LIB=/tmp/rb-prefix/lib/liboidc.so ruby -Ilib bench/validate.rb [--tokens 200] [--rounds 15] [--seconds 0.4]

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "oidc"
require "jwt"
require "openssl"
require "securerandom"
require "optparse"

opts = { tokens: 200, rounds: 15, seconds: 0.4 }
OptionParser.new do |o|
  o.on("--tokens N", Integer) { |v| opts[:tokens] = v }
  o.on("--rounds N", Integer) { |v| opts[:rounds] = v }
  o.on("--seconds S", Float) { |v| opts[:seconds] = v }
end.parse!

ISS = "https://issuer.bench.test"
AUD = "api://bench"
LEEWAY = 60

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

def setup_alg(alg, n)
  key, jwk_extra = case alg
                   when "RS256" then [OpenSSL::PKey::RSA.generate(2048), {}]
                   when "ES256" then [OpenSSL::PKey::EC.generate("prime256v1"), {}]
                   end
  kid = "bench-#{alg.downcase}"
  jwk = JWT::JWK.new(key, kid).export.merge(alg: alg, use: "sig").merge(jwk_extra)
  now = Time.now.to_i
  tokens = Array.new(n) do |i|
    payload = { iss: ISS, aud: AUD, sub: "user-#{i}", client_id: "bench", scope: "read write",
                iat: now, nbf: now, exp: now + 3600, jti: SecureRandom.hex(8) }
    JWT.encode(payload, key, alg, { kid: kid, typ: "at+jwt" })
  end
  # the verification key built from the same JWK (public-only OpenSSL::PKey)
  pub = JWT::JWK.import(JSON.parse(JSON.generate(jwk))).keypair
  raise "JWK import kept a private key" if pub.private?
  client = Oidc::Client.new(issuer: ISS, audiences: AUD, algorithms: alg, leeway: LEEWAY,
                            jwks_json: { keys: [jwk] })
  jwt_opts = { algorithm: alg, iss: ISS, verify_iss: true, aud: AUD, verify_aud: true,
               verify_iat: true, verify_expiration: true, verify_not_before: true, leeway: LEEWAY }
  binding = ->(t) { client.validate(t).subject }
  unread = ->(t) { client.validate(t) }
  rubyjwt = ->(t) { JWT.decode(t, pub, true, jwt_opts)[0]["sub"] }
  # both must accept every token and reject a tampered one (same decisions before timing)
  tokens.each do |t|
    raise "binding: #{t}" unless binding.(t).start_with?("user-")
    raise "ruby-jwt: #{t}" unless rubyjwt.(t).start_with?("user-")
  end
  h, p, s = tokens[0].split(".")
  bad = [h, JWT::Base64.url_encode(JSON.generate(JSON.parse(JWT::Base64.url_decode(p)).merge("sub" => "x"))), s].join(".")
  begin
    binding.(bad)
    raise "binding accepted a tampered token"
  rescue Oidc::SignatureInvalid
  end
  begin
    rubyjwt.(bad)
    raise "ruby-jwt accepted a tampered token"
  rescue JWT::VerificationError
  end
  [tokens, binding, unread, rubyjwt, client]
end

# [ops per CPU second, ops per wall second] of one timed round: validate the tokens
# round-robin for about `seconds` of CPU time
def round(fn, tokens, seconds)
  n = 0
  w0 = mono
  c0 = cpu
  deadline = c0 + seconds
  while cpu < deadline
    tokens.each { |t| fn.(t) }
    n += tokens.size
  end
  [n / (cpu - c0), n / (mono - w0)]
end

def median(a) = a.sort[a.size / 2]

puts "ruby #{RUBY_VERSION} (#{RUBY_PLATFORM}), ffi #{FFI::VERSION}, ruby-jwt #{JWT::VERSION::STRING}, " \
     "liboidc #{Oidc.library_version}, #{OpenSSL::OPENSSL_LIBRARY_VERSION}"
puts "#{opts[:tokens]} distinct tokens per algorithm, #{opts[:rounds]} alternating rounds of #{opts[:seconds]} s, median"
puts
printf("%-6s %-26s %12s %10s %10s %12s\n", "alg", "", "op/CPU-s", "us/op", "op/wall-s", "vs ruby-jwt")
results = {}
%w[RS256 ES256].each do |alg|
  tokens, binding, unread, rubyjwt, client = setup_alg(alg, opts[:tokens])
  fns = { "binding (validate + sub)" => binding, "binding, claims unread" => unread, "ruby-jwt (decode + sub)" => rubyjwt }
  2.times { fns.each_value { |f| round(f, tokens, 0.2) } } # warm-up
  got = fns.keys.to_h { |k| [k, []] }
  opts[:rounds].times do |i|
    fns.keys.rotate(i % fns.size).each { |k| got[k] << round(fns[k], tokens, opts[:seconds]) } # rotating order
  end
  med = got.transform_values { |rs| [median(rs.map(&:first)), median(rs.map(&:last))] }
  base = med["ruby-jwt (decode + sub)"]
  med.each do |name, (c, w)|
    printf("%-6s %-26s %12.0f %10.1f %10.0f %11.2fx\n", alg, name, c, 1e6 / c, w, c / base[0])
  end
  results["#{alg} cpu"] = med["binding (validate + sub)"][0] / base[0]
  results["#{alg} wall"] = med["binding (validate + sub)"][1] / base[1]
  client.close
end
puts
puts format("RS256 binding / ruby-jwt (both reading the claims): %.2fx per CPU second, %.2fx per wall second " \
            "(target >= 3x)", results["RS256 cpu"], results["RS256 wall"])
puts "load average: #{File.read('/proc/loadavg').split[0, 3].join(' ')}" if File.exist?("/proc/loadavg")
