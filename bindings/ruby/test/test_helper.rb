# frozen_string_literal: true

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "minitest/autorun"
require "json"
require "net/http"
require "open3"
require "tmpdir"
require "securerandom"
require "oidc"
require_relative "idp_browser"

module TestSupport
  ROOT = File.expand_path("../../..", __dir__) # repository root
  VECTORS = File.join(ROOT, "tests", "vectors", "validation.json")
  MULTI_VECTORS = File.join(ROOT, "tests", "vectors", "multi_issuer.json")
  POLICY_VECTORS = File.join(ROOT, "tests", "vectors", "policy.json")
  # the header the loaded library was built from (OIDC_HEADER, e.g. an install prefix's
  # include/oidc.h), by default the repository's
  HEADER = ENV.fetch("OIDC_HEADER", File.join(ROOT, "include", "oidc.h"))

  module_function

  # Missing prerequisites skip, unless OIDC_REQUIRE_ALL=1 (test.sh sets it) makes them fail.
  def need(test, ok, why)
    return if ok

    ENV["OIDC_REQUIRE_ALL"] == "1" ? test.flunk("prerequisite missing: #{why}") : test.skip(why)
  end

  def which(cmd)
    ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).map { |d| File.join(d, cmd) }.find { |p| File.executable?(p) }
  end

  # A child process that prints one JSON ready line on stdout and exits when its stdin (a pipe
  # we hold) reaches EOF; so it dies with this test process whatever happens.
  class Child
    attr_reader :info, :pid

    # stderr goes to `log` (shown when the child fails to start)
    def initialize(cmd, name, ready_timeout, log)
      @name = name
      @stdin, @stdout, @wait = Open3.popen2(*cmd, chdir: ROOT, err: [log, "w"])
      @pid = @wait.pid
      unless IO.select([@stdout], nil, nil, ready_timeout)
        stop
        raise "#{name}: no ready line within #{ready_timeout} s\n#{File.read(log)}"
      end
      line = @stdout.gets or raise "#{name} exited before its ready line (#{@wait.value})\n#{File.read(log)}"
      @info = JSON.parse(line)
      # keep draining stdout so the child never blocks on a full pipe
      @drain = Thread.new { @stdout.read rescue nil }
    end

    def stop
      @stdin.close unless @stdin.closed?
      return if @wait.join(5)

      Process.kill(:TERM, @pid) rescue nil # only our own child, by pid
      @wait.join(5)
    end
  end

  # The loopback fixture issuer (tests/testkit): $OIDC_TESTKIT if set, else `cargo run`.
  class Testkit < Child
    def self.instance(test)
      return @instance if @instance

      bin = ENV["OIDC_TESTKIT"]
      dir = Dir.mktmpdir("oidc-rb-testkit")
      cmd = if bin && !bin.empty?
              [bin, "--dir", dir]
            else
              TestSupport.need(test, TestSupport.which("cargo"), "oidc-testkit: set OIDC_TESTKIT or install cargo")
              %w[cargo run -q -p oidc-testkit --release --bin oidc-testkit --] + ["--dir", dir]
            end
      @instance = new(cmd, "oidc-testkit", 900, File.join(dir, "stderr.log"))
      at_exit { @instance.stop }
      @instance
    end

    def issuer = info.fetch("issuer")
    def ca_file = info.fetch("ca_file")
    def wrong_ca_file = info.fetch("wrong_ca_file")
    def jwks_uri = info.fetch("jwks_uri")

    # A jwks_uri no other test uses: the key cache is process-wide per URL, so tests that need
    # a cold cache (or a fault) get their own entry. The query is ignored by the server.
    def fresh_jwks_uri(tag = "t")
      "#{jwks_uri}?#{tag}=#{SecureRandom.hex(6)}"
    end

    # Signed token from the admin API: token(alg: "RS256", aud: "api", exp_in: 300, scope: "read")
    def token(alg: "RS256", aud: "api://ruby", **params)
      admin(:get, "/token", { alg: alg, aud: aud }.merge(params))
    end

    def fault(path:, mode:, **params)
      admin(:post, "/fault", { path: path, mode: mode }.merge(params))
    end

    def stats
      JSON.parse(admin(:get, "/stats"))
    end

    def admin(method, path, params = {})
      uri = URI(info.fetch("admin") + path)
      uri.query = URI.encode_www_form(params) unless params.empty?
      res = Net::HTTP.start(uri.host, uri.port, read_timeout: 10) do |http|
        method == :get ? http.get(uri.request_uri) : http.post(uri.request_uri, "")
      end
      raise "admin #{path}: #{res.code} #{res.body}" unless res.code == "200"

      res.body
    end
  end

  # The real oidc-provider (tests/idp/server.mjs), spawned with a pipe on stdin.
  class Idp < Child
    def self.instance(test)
      return @instance if @instance

      TestSupport.need(test, TestSupport.which("node"), "node is needed for tests/idp")
      TestSupport.need(test, File.directory?(File.join(ROOT, "tests/idp/node_modules")),
                       "tests/idp/node_modules missing (cd tests/idp && npm ci)")
      dir = Dir.mktmpdir("oidc-rb-idp")
      @instance = new(["node", "tests/idp/server.mjs", "--dir", dir], "oidc-provider", 120,
                      File.join(dir, "stderr.log"))
      at_exit { @instance.stop }
      @instance
    end

    def issuer = info.fetch("issuer")
    def ca_file = info.fetch("ca_file")
    def token_endpoint = info.fetch("token_endpoint")

    # POST to the admin API (e.g. "/ciba/approve?auth_req_id=..."); returns the JSON answer.
    def admin_post(path)
      uri = URI(info.fetch("admin") + path)
      res = Net::HTTP.start(uri.host, uri.port, read_timeout: 10) { |h| h.post(uri.request_uri, "") }
      JSON.parse(res.body)
    end

    def browser
      Browser.new(issuer, ca_file)
    end

    # A minimal authorization-code exchange by form POST (liboidc's own code exchange belongs
    # to the grants work); returns the token response Hash.
    def exchange_code(client_id:, secret:, code:, redirect_uri:, verifier:)
      uri = URI(token_endpoint)
      req = Net::HTTP::Post.new(uri)
      form = { grant_type: "authorization_code", code: code, redirect_uri: redirect_uri, code_verifier: verifier }
      secret ? req.basic_auth(client_id, secret) : form[:client_id] = client_id
      req.set_form_data(form)
      res = Net::HTTP.start(uri.host, uri.port, use_ssl: true, ca_file: ca_file) { |h| h.request(req) }
      body = JSON.parse(res.body)
      raise "code exchange failed: #{res.code} #{body}" unless body["access_token"]

      body
    end
  end

  def vectors
    @vectors ||= JSON.parse(File.read(VECTORS))
  end

  def multi_vectors
    @multi_vectors ||= JSON.parse(File.read(MULTI_VECTORS))
  end

  def policy_vectors
    @policy_vectors ||= JSON.parse(File.read(POLICY_VECTORS))
  end

  # One vector file by the name policy.json uses ("validation.json", "multi_issuer.json").
  def vector_file(name)
    { "validation.json" => vectors, "multi_issuer.json" => multi_vectors }.fetch(name)
  end

  # multi_issuer.json's `issuers` entries as Oidc::Issuer keywords (an unknown member fails, so
  # a new vector setting cannot be skipped silently).
  MULTI_ISSUER_KEYS = { "issuer" => :issuer, "jwks" => :jwks_json, "audiences" => :audiences,
                        "algorithms" => :algorithms, "expected_typ" => :expected_typ,
                        "required_claims" => :required_claims, "tenants" => :tenants }.freeze

  def multi_issuer_keywords(entry)
    entry.to_h { |k, v| [MULTI_ISSUER_KEYS.fetch(k) { raise "multi_issuer.json: unknown issuer member #{k}" }, v] }
  end

  # The validator multi_issuer.json describes: its `config`, plus one added issuer per
  # `issuers` entry (Oidc::Issuer objects, or the same keywords as Hashes with as_hashes: true).
  def multi_client(as_hashes: false, **over)
    v = multi_vectors
    c = v["config"]
    known = %w[issuer audiences algorithms expected_typ required_claims leeway_secs max_token_bytes]
    unknown = c.keys - known
    raise "multi_issuer.json: unknown config member(s) #{unknown}" unless unknown.empty?

    issuers = v["issuers"].map do |e|
      kw = multi_issuer_keywords(e)
      as_hashes ? kw : Oidc::Issuer.new(**kw)
    end
    Oidc::Client.new(issuer: c["issuer"], audiences: c["audiences"] || [], algorithms: c["algorithms"],
                     expected_typ: c["expected_typ"], required_claims: c["required_claims"] || [],
                     leeway: c["leeway_secs"], max_token_bytes: c["max_token_bytes"], issuers: issuers, **over)
  end

  # The result code `client` gives each case of `v` at v["now"] ({name => [code, name]}).
  def decide_all(client, v)
    v["cases"].to_h do |c|
      got = begin
        client.validate_at(c["token"], v["now"])
        [0, "OK"]
      rescue Oidc::Error => e
        [e.code, e.name]
      end
      [c["name"], got]
    end
  end

  def vector_client(**over)
    v = vectors
    c = v["config"]
    Oidc::Client.new(issuer: c["issuer"], audiences: c["audiences"], algorithms: c["algorithms"],
                     expected_typ: c["expected_typ"], required_claims: c["required_claims"],
                     leeway: c["leeway_secs"], max_token_bytes: c["max_token_bytes"],
                     jwks_json: v["jwks"], **over)
  end
end
