#include "node/service_proxy.h"

#include <algorithm>
#include <array>
#include <set>

#include <boost/asio.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "common/log.h"

namespace xblocks::node {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr size_t kBufferBytes = 64 * 1024;

bool SelectorMatches(const Json& selector, const Json& labels) {
  for (const auto& [key, value] : selector.items()) {
    if (!value.is_string() || api::StringMemberOf(labels, key) != value.get_ref<const std::string&>()) return false;
  }
  return true;
}

bool PodReady(const Json& pod) {
  for (const Json& condition : api::ArrayAt(pod, "status.conditions")) {
    if (api::StringMemberOf(condition, "type") == "Ready") return api::StringMemberOf(condition, "status") == "True";
  }
  return false;
}

// The pod's port for a Service port's targetPort: the number itself, or the containerPort of
// the container port with that name; 0 when the pod has no such port.
int TargetPort(const Json& target, const Json& pod) {
  if (target.is_number_integer()) return target.get<int>();
  if (!target.is_string()) return 0;
  for (const Json& container : api::ArrayAt(pod, "spec.containers")) {
    for (const Json& port : api::ArrayAt(container, "ports")) {
      if (api::StringMemberOf(port, "name") == target.get_ref<const std::string&>()) {
        return static_cast<int>(api::IntAt(port, "containerPort", 0));
      }
    }
  }
  return 0;
}

bool IsLoopback(const std::string& ip) {
  boost::system::error_code error;
  const auto address = asio::ip::make_address(ip, error);
  return !error && address.is_loopback();
}

}  // namespace

std::string ProxyRoute::Address() const { return fmt::format("{}:{}", ip, port); }

std::vector<ProxyRoute> ComputeProxyRoutes(const std::vector<Json>& services, const std::vector<Json>& pods) {
  std::vector<ProxyRoute> routes;
  for (const Json& service : services) {
    const Json& selector = api::ObjectAt(service, "spec.selector");
    const std::string ip = api::StringAt(service, "spec.clusterIP");
    if (selector.empty() || !IsLoopback(ip)) continue;
    const std::string ns = apiserver::Namespace(service);
    for (const Json& port : api::ArrayAt(service, "spec.ports")) {
      const std::string protocol = api::StringMemberOf(port, "protocol");
      const int number = static_cast<int>(api::IntAt(port, "port", 0));
      if ((!protocol.empty() && protocol != "TCP") || number <= 0 || number > 65535) continue;
      ProxyRoute route{.service = ns + "/" + apiserver::Name(service),
                       .port_name = api::StringMemberOf(port, "name"),
                       .ip = ip,
                       .port = number};
      const Json& target = port.contains("targetPort") ? port["targetPort"] : port["port"];
      for (const Json& pod : pods) {
        if (apiserver::Namespace(pod) != ns || apiserver::IsDeleting(pod) || !PodReady(pod)) continue;
        if (!SelectorMatches(selector, api::ObjectAt(pod, "metadata.labels"))) continue;
        const std::string pod_ip = api::StringAt(pod, "status.podIP");
        const int pod_port = TargetPort(target, pod);
        if (pod_ip.empty() || pod_port <= 0) continue;
        route.backends.push_back({apiserver::Name(pod), pod_ip, pod_port});
      }
      std::sort(route.backends.begin(), route.backends.end(),
                [](const ProxyBackend& a, const ProxyBackend& b) { return a.pod < b.pod; });
      routes.push_back(std::move(route));
    }
  }
  std::sort(routes.begin(), routes.end(),
            [](const ProxyRoute& a, const ProxyRoute& b) { return a.Address() < b.Address(); });
  return routes;
}

// Everything below runs on the I/O thread, which is the only one to touch sockets and routes.
struct ServiceProxy::State : std::enable_shared_from_this<ServiceProxy::State> {
  struct Listener {
    ProxyRoute route;
    tcp::acceptor acceptor;
    size_t next = 0;  // round-robin position in route.backends
    explicit Listener(asio::io_context& io) : acceptor(io) {}
  };

  // One proxied connection: bytes from the client go upstream and back.
  struct Pipe : std::enable_shared_from_this<Pipe> {
    tcp::socket client;
    tcp::socket upstream;
    std::array<char, kBufferBytes> to_upstream{};
    std::array<char, kBufferBytes> to_client{};
    int open_directions = 2;

    Pipe(tcp::socket accepted, asio::io_context& io) : client(std::move(accepted)), upstream(io) {}

    void Start() {
      Pump(client, upstream, to_upstream);
      Pump(upstream, client, to_client);
    }

    // Copies `from` to `to` until `from` ends, then half-closes `to`, as TCP does end to end.
    void Pump(tcp::socket& from, tcp::socket& to, std::array<char, kBufferBytes>& buffer) {
      from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                     const boost::system::error_code& error, size_t bytes) {
        if (error) {
          boost::system::error_code ignored;
          to.shutdown(tcp::socket::shutdown_send, ignored);
          if (--self->open_directions == 0 || error != asio::error::eof) self->Close();
          return;
        }
        asio::async_write(to, asio::buffer(buffer.data(), bytes),
                          [self, &from, &to, &buffer](const boost::system::error_code& write_error, size_t) {
                            if (write_error) {
                              self->Close();
                              return;
                            }
                            self->Pump(from, to, buffer);
                          });
      });
    }

    void Close() {
      boost::system::error_code ignored;
      client.close(ignored);
      upstream.close(ignored);
    }
  };

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::map<std::string, std::shared_ptr<Listener>> listeners;  // by address
  std::vector<std::weak_ptr<Pipe>> pipes;                       // open connections, for Stop
  std::map<std::string, std::string> bind_failures;           // address -> last error logged

  void Apply(std::vector<ProxyRoute> routes) {
    std::set<std::string> routed;
    for (ProxyRoute& route : routes) {
      const std::string address = route.Address();
      routed.insert(address);
      auto found = listeners.find(address);
      if (found != listeners.end()) {
        if (found->second->route.backends != route.backends) {
          XB_LOG_DEBUG("service proxy backends changed",
                       {{"service", route.service}, {"addr", address}, {"backends", BackendList(route)}});
        }
        found->second->route = std::move(route);
        continue;
      }
      Listen(std::move(route));
    }
    for (auto it = listeners.begin(); it != listeners.end();) {
      if (routed.count(it->first) > 0) {
        ++it;
        continue;
      }
      boost::system::error_code ignored;
      it->second->acceptor.close(ignored);
      XB_LOG_INFO("service proxy stopped listening", {{"service", it->second->route.service}, {"addr", it->first}});
      it = listeners.erase(it);
    }
    for (auto it = bind_failures.begin(); it != bind_failures.end();) {
      it = routed.count(it->first) > 0 ? std::next(it) : bind_failures.erase(it);
    }
  }

  static std::string BackendList(const ProxyRoute& route) {
    std::vector<std::string> items;
    for (const ProxyBackend& backend : route.backends) {
      items.push_back(fmt::format("{}={}:{}", backend.pod, backend.ip, backend.port));
    }
    return fmt::format("[{}]", fmt::join(items, " "));
  }

  void Listen(ProxyRoute route) {
    const std::string address = route.Address();
    auto listener = std::make_shared<Listener>(io);
    boost::system::error_code error;
    const tcp::endpoint endpoint(asio::ip::make_address(route.ip, error), static_cast<uint16_t>(route.port));
    if (!error) listener->acceptor.open(endpoint.protocol(), error);
    if (!error) listener->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) listener->acceptor.bind(endpoint, error);
    if (!error) listener->acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      // Sync retries every pass; log a failure once until its message changes.
      std::string& logged = bind_failures[address];
      if (logged != error.message()) {
        logged = error.message();
        XB_LOG_WARN("service proxy cannot listen",
                    {{"service", route.service}, {"addr", address}, {"err", error.message()},
                     {"fix", "another process holds the address; delete and re-create the Service to get a new clusterIP"}});
      }
      return;
    }
    bind_failures.erase(address);
    XB_LOG_INFO("service proxy listening",
                {{"service", route.service}, {"addr", address}, {"backends", BackendList(route)}});
    listener->route = std::move(route);
    listeners[address] = listener;
    Accept(listener);
  }

  void Accept(const std::shared_ptr<Listener>& listener) {
    listener->acceptor.async_accept([self = shared_from_this(), listener](const boost::system::error_code& error,
                                                                         tcp::socket socket) {
      if (!listener->acceptor.is_open()) return;  // closed by Apply or Stop
      if (!error) {
        auto pipe = std::make_shared<Pipe>(std::move(socket), self->io);
        std::erase_if(self->pipes, [](const std::weak_ptr<Pipe>& open) { return open.expired(); });
        self->pipes.push_back(pipe);
        self->Connect(listener, pipe, 0);
      }
      self->Accept(listener);
    });
  }

  // Tries the backends in turn, starting at the listener's round-robin position.
  void Connect(const std::shared_ptr<Listener>& listener, const std::shared_ptr<Pipe>& pipe, size_t attempt) {
    const std::vector<ProxyBackend>& backends = listener->route.backends;
    if (attempt >= backends.size()) {
      XB_LOG_DEBUG("service proxy found no ready backend",
                   {{"service", listener->route.service}, {"addr", listener->route.Address()}});
      pipe->Close();
      return;
    }
    const ProxyBackend backend = backends[listener->next++ % backends.size()];
    boost::system::error_code error;
    const tcp::endpoint endpoint(asio::ip::make_address(backend.ip, error), static_cast<uint16_t>(backend.port));
    if (error) {
      Connect(listener, pipe, attempt + 1);
      return;
    }
    pipe->upstream.async_connect(endpoint, [self = shared_from_this(), listener, pipe, attempt,
                                            backend](const boost::system::error_code& connect_error) {
      if (connect_error) {
        XB_LOG_DEBUG("service proxy backend refused",
                     {{"service", listener->route.service}, {"pod", backend.pod}, {"err", connect_error.message()}});
        boost::system::error_code ignored;
        pipe->upstream.close(ignored);
        self->Connect(listener, pipe, attempt + 1);
        return;
      }
      pipe->Start();
    });
  }

  // Cancels every pending operation, so io.run() returns once their handlers have run and
  // released what they hold.
  void CloseAll() {
    for (auto& [address, listener] : listeners) {
      boost::system::error_code ignored;
      listener->acceptor.close(ignored);
    }
    listeners.clear();
    for (const std::weak_ptr<Pipe>& open : pipes) {
      if (auto pipe = open.lock()) pipe->Close();
    }
    pipes.clear();
    work.reset();
  }
};

ServiceProxy::ServiceProxy(client::Client& client) : state_(std::make_shared<State>()), client_(client) {}

ServiceProxy::~ServiceProxy() { Stop(); }

Status ServiceProxy::Start() {
  if (thread_.joinable()) return Status::Ok();
  thread_ = std::thread([state = state_] { state->io.run(); });
  return Status::Ok();
}

void ServiceProxy::Stop() {
  if (!thread_.joinable()) return;
  asio::post(state_->io, [state = state_] { state->CloseAll(); });
  thread_.join();
}

Status ServiceProxy::Sync() {
  auto services = client_.List(client::resources::kServices, "", {});
  if (!services.ok()) return services.status();
  auto pods = client_.List(client::resources::kPods, "", {});
  if (!pods.ok()) return pods.status();
  std::vector<ProxyRoute> routes = ComputeProxyRoutes(services->items, pods->items);
  asio::post(state_->io, [state = state_, routes = std::move(routes)]() mutable { state->Apply(std::move(routes)); });
  return Status::Ok();
}

}  // namespace xblocks::node
