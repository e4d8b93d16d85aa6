# Inside the sandbox, before the program, when the agent lists sandbox.allowed_hosts. The sandbox's
# network namespace is empty; its only way out is the ToolExecutor's CONNECT proxy on the unix socket
# bind-mounted at /run/egress. pip, requests and curl speak to an HTTP proxy over TCP, so this listens on
# the sandbox's own 127.0.0.1:3128 (HTTPS_PROXY) and copies bytes to that socket. It is not trusted:
# code may kill or replace it and still reaches nothing the proxy outside does not allow.
# argv[1:]: the program, executed in this process once the forwarder listens.
import os, socket, sys, threading

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 3128))
listener.listen(16)

def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for s in (source, target):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

if os.fork() == 0:
    # The program's output streams are its own: the forwarder holds none of them open.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect("/run/egress/proxy.sock")
        except OSError:
            client.close()
            continue
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

listener.close()
os.execv(sys.argv[1], sys.argv[1:])
