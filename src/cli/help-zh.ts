// `--help` in Chinese under a zh locale: every command summary, option and argument description, and
// commander's own headings. Keyed by the English text, so a command file keeps one description; a text
// missing here shows in English (test/cli-ux.test.ts checks that every command summary has its Chinese).
import type { Command } from "commander";

const ZH: Record<string, string> = {
  // programs
  "ModelScope from Node.js: sign in, download models, manage the cache, run a local hub": "在 Node.js 中使用 ModelScope：登录、下载模型、管理缓存、运行本地模型中心",
  "DeepCompressor configs with ModelScope: resolve model sources to local folders, then run the Python DeepCompressor":
    "用 ModelScope 处理 DeepCompressor 配置：把模型来源解析为本地文件夹，然后运行 Python 版 DeepCompressor",
  // modelscope commands
  "sign in: check a token with the hub and save it to ~/.modelscope/token": "登录：向服务器验证 token 并保存到 ~/.modelscope/token",
  "sign out: remove the saved token": "退出登录：删除保存的 token",
  "show who the current token belongs to": "显示当前 token 所属的用户",
  "sign-in state": "登录状态",
  "are you signed in, with which token, and does the hub accept it (exit 0 if signed in)": "是否已登录、使用哪个 token、服务器是否接受（已登录时退出码为 0）",
  "show a model's info and revisions (private models need a sign-in)": "显示模型信息和版本（私有模型需要登录）",
  "run a local ModelScope-compatible hub over a cache folder (for offline clusters and tests)": "在缓存文件夹上运行与 ModelScope 兼容的本地模型中心（用于离线集群和测试）",
  "manage the local hub's users (hub.json)": "管理本地模型中心的用户（hub.json）",
  "add a user and print a new token (shown once; only its sha256 is stored)": "添加用户并打印新 token（只显示一次；仅保存其 sha256）",
  "download a model (or some of its files) into the cache or --local-dir, verified by sha256; prints the local folder":
    "下载模型（或其中部分文件）到缓存或 --local-dir，按 sha256 校验；打印本地文件夹",
  "see and manage the local model cache": "查看和管理本地模型缓存",
  "list cached models, their revisions and sizes": "列出已缓存的模型、版本和大小",
  "remove a model (or one --revision of it) from the cache": "从缓存中删除模型（或其某个 --revision）",
  "re-hash cached files against the hub's sha256 (exit 1 on any mismatch)": "按服务器的 sha256 重新校验缓存文件（有不一致时退出码为 1）",
  "remove leftovers of interrupted downloads: partial files, stale locks, orphan records": "清理中断下载的残留：未完成的文件、失效的锁、孤立记录",
  "what a bug report needs: version, endpoint, paths, settings in force, sign-in state": "报告问题所需的信息：版本、服务地址、路径、生效的设置、登录状态",
  "print a shell completion script (bash, zsh or fish)": "打印 shell 补全脚本（bash、zsh 或 fish）",
  "display help for command": "显示命令帮助",
  "output the version number": "显示版本号",
  // deepcompressor commands
  "resolve every model source the configs name (model:, pipeline:), download what is missing, print the local folders":
    "解析配置中的每个模型来源（model:、pipeline:），下载缺少的内容，打印本地文件夹",
  "DeepCompressor configs": "DeepCompressor 配置",
  "check configs (types, model sources, credentials) and report every problem at once, with file, line and key": "检查配置（类型、模型来源、凭据），一次报告所有问题，附文件、行号和键",
  "are you signed in to ModelScope, with which token, does the hub accept it (exit 0 if signed in)": "是否已登录 ModelScope、使用哪个 token、服务器是否接受（已登录时退出码为 0）",
  "resolve the model, then run the Python DeepCompressor's post-training quantization on the same configs": "解析模型，然后用同样的配置运行 Python 版 DeepCompressor 的训练后量化",
  // options and arguments
  "errors only: no progress bars, notes or summaries": "只输出错误：不显示进度条、提示或摘要",
  "the token (shows in shell history: prefer --token-stdin)": "token（会留在 shell 历史中：建议使用 --token-stdin）",
  "read the token from standard input": "从标准输入读取 token",
  "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)": "服务地址（默认：MODELSCOPE_ENDPOINT 或 https://modelscope.cn）",
  "hub URL": "服务地址",
  "check this token instead of the saved one": "检查此 token，而不是保存的 token",
  "use this token instead of the saved one (prefer MODELSCOPE_API_TOKEN)": "使用此 token 代替保存的 token（建议使用 MODELSCOPE_API_TOKEN）",
  "use this token instead of the saved one": "使用此 token 代替保存的 token",
  "machine-readable output": "机器可读的输出",
  "print a JSON summary": "打印 JSON 摘要",
  "do not ask the hub; only say whether a token is present": "不询问服务器；只说明是否有 token",
  "branch, tag or commit (default: master)": "分支、标签或提交（默认：master）",
  "only files matching these globs (`*` crosses `/`; comma lists allowed)": "只下载匹配这些通配符的文件（`*` 可跨越 `/`；可用逗号分隔）",
  "skip files matching these globs": "跳过匹配这些通配符的文件",
  "put the files here instead of the cache": "把文件放在这里，而不是缓存中",
  "cache folder (default: MODELSCOPE_CACHE or ~/.cache/modelscope)": "缓存文件夹（默认：MODELSCOPE_CACHE 或 ~/.cache/modelscope）",
  "cache folder": "缓存文件夹",
  "files downloaded at once (default 8)": "同时下载的文件数（默认 8）",
  "download again even when cached": "即使已缓存也重新下载",
  "no network: use the cache or say what is missing (also MODELSCOPE_OFFLINE=1)": "不联网：使用缓存，或说明缺少什么（也可设置 MODELSCOPE_OFFLINE=1）",
  "no network: use the cache or fail naming what is missing (also MODELSCOPE_OFFLINE=1)": "不联网：使用缓存，否则报错并说明缺少什么（也可设置 MODELSCOPE_OFFLINE=1）",
  "no network: the model must be cached": "不联网：模型必须已缓存",
  "list what would be downloaded, write nothing": "列出将要下载的内容，不写入任何文件",
  "say what would be downloaded; write nothing": "说明将要下载的内容；不写入任何文件",
  "only list what would be removed": "只列出将要删除的内容",
  "only this revision": "只删除此版本",
  "do not ask": "不询问",
  "verify this folder instead of the cache": "校验此文件夹，而不是缓存",
  "also exit 1 when files of the listing are not there": "清单中的文件缺失时也以退出码 1 结束",
  "the hub's folder: a ModelScope cache (models/<owner>--<name>/snapshots/<rev>/...) plus optional hub.json":
    "模型中心的文件夹：ModelScope 缓存（models/<owner>--<name>/snapshots/<rev>/...）以及可选的 hub.json",
  "the hub's folder": "模型中心的文件夹",
  "address to listen on": "监听地址",
  "port (0 picks a free one)": "端口（0 表示自动选择空闲端口）",
  "redirect files at least this big to the CDN host name (like the real hub)": "不小于此大小的文件重定向到 CDN 主机名（与真实服务器相同）",
  "host name for redirected downloads": "重定向下载使用的主机名",
  "the user's email": "用户的邮箱",
  "a config file (repeatable; merged after the positional ones)": "配置文件（可重复；在位置参数之后合并）",
  "a config file (repeatable)": "配置文件（可重复）",
  "write the merged config with each path replaced by its local folder (comments and key order kept)": "写出合并后的配置，其中每个 path 换成本地文件夹（保留注释和键的顺序）",
  "config files (YAML), or files listing config paths; __default__.yaml files cascade as in DeepCompressor": "配置文件（YAML），或列出配置路径的文件；__default__.yaml 按 DeepCompressor 的方式层层合并",
  "config files": "配置文件",
  "config files, as for the Python tool": "配置文件，与 Python 工具相同",
  "llm or diffusion": "llm 或 diffusion",
  "bash, zsh or fish": "bash、zsh 或 fish",
  // datasets, accounts, publishing, the hub's admin and mirror flags
  "make a saved account the active one (~/.modelscope/token and the official client's login)": "把保存的账户设为当前账户（~/.modelscope/token 和官方客户端的登录）",
  "only this saved account": "只针对这个保存的账户",
  "save it under this account name (default: the username)": "以此账户名保存（默认：用户名）",
  "saved accounts: name, user, hub, masked token; * marks the active one": "保存的账户：名称、用户、服务地址、打码的 token；* 表示当前账户",
  "sign in: check a token with the hub, save it as an account and make it the active one (~/.modelscope/token and the official client's login)": "登录：向服务器验证 token，保存为账户并设为当前账户（~/.modelscope/token 和官方客户端的登录）",
  "sign out: remove every saved account (or only --name NAME), ~/.modelscope/token and the official client's login": "退出登录：删除所有保存的账户（或只删除 --name NAME）、~/.modelscope/token 和官方客户端的登录",
  "download the files that do not match again": "重新下载不一致的文件",
  "list cached models and datasets, their revisions and sizes": "列出已缓存的模型和数据集、版本和大小",
  "model or dataset (default: model)": "model 或 dataset（默认：model）",
  "remove a model or dataset (or one --revision of it) from the cache": "从缓存中删除模型或数据集（或其某个 --revision）",
  "see and manage the local model and dataset cache": "查看和管理本地模型与数据集缓存",
  "an existing repository is not an error": "仓库已存在时不报错",
  "create a model or dataset repository on the hub (private unless --visibility public)": "在服务器上创建模型或数据集仓库（除非 --visibility public，否则为私有）",
  "display name in Chinese": "中文显示名称",
  "license id (default: apache-2.0)": "许可证 ID（默认：apache-2.0）",
  "private (default), internal or public": "private（默认）、internal 或 public",
  "repository commands (create)": "仓库命令（create）",
  "same as --repo-type": "同 --repo-type",
  "short description": "简短描述",
  "what the Python tool would only warn about (unknown keys, no model name) is an error too": "Python 工具只会警告的问题（未知的键、没有模型名称）也作为错误",
  "download a model or dataset (or some of its files) into the cache or --local-dir, verified by sha256; prints the local folder": "下载模型或数据集（或其中部分文件）到缓存或 --local-dir，按 sha256 校验；打印本地文件夹",
  "model or dataset (default: model; also --repo_type)": "model 或 dataset（默认：model；也可写作 --repo_type）",
  "the dataset to download (a positional is then the first file)": "要下载的数据集（此时位置参数是第一个文件）",
  "the model to download (official spelling; a positional is then the first file)": "要下载的模型（官方写法；此时位置参数是第一个文件）",
  "comma-separated user names": "逗号分隔的用户名",
  "comma-separated user names (default: keep the current list)": "逗号分隔的用户名（默认：保留当前列表）",
  "create an organisation, or replace its members": "创建组织，或替换其成员",
  "list organisations and their members": "列出组织及其成员",
  "list the hub's users (names and emails; never tokens)": "列出模型中心的用户（名称和邮箱；从不显示 token）",
  "make a model (or --dataset) private, gated or public; --users sets who may see / download it": "把模型（或 --dataset）设为 private、gated 或 public；--users 指定谁可以查看/下载",
  "organisations: their members may upload under the organisation's namespace": "组织：成员可以在组织的命名空间下上传",
  "remove a user (their token stops working at once) and their name from every access list": "删除用户（其 token 立即失效），并从所有访问列表中去掉其名字",
  "remove an organisation": "删除组织",
  "the id is a dataset's": "该 ID 是数据集的",
  "address to listen on (0.0.0.0: every network)": "监听地址（0.0.0.0：所有网络）",
  "another name of this hub for redirected downloads (default: localhost for a client at 127.0.0.1, else the hub's own name)": "重定向下载使用的本模型中心的另一个名称（默认：127.0.0.1 的客户端用 localhost，其他用模型中心自己的名称）",
  "close a connection that makes no progress this long": "连接在这么长时间内没有进展就关闭",
  "connections at once from one address (0: no cap; raise it behind a proxy)": "同一地址的同时连接数（0：不限；在代理后面请调高）",
  "connections at once, all clients (0: no cap)": "所有客户端的同时连接数（0：不限）",
  "enable /__test__ fault switches (tests only)": "启用 /__test__ 故障开关（仅用于测试）",
  "largest file accepted by uploads, in MiB (default: 102400)": "上传接受的最大文件，单位 MiB（默认：102400）",
  "one line per request: standard output (default), a file, or off": "每个请求一行：标准输出（默认）、文件，或 off",
  "pull-through mirror of this hub (e.g. https://modelscope.cn): misses are fetched once, kept in --root": "作为该服务器的透传镜像（例如 https://modelscope.cn）：缺少的文件只获取一次，保存在 --root",
  "the address clients reach the hub at, for redirects and links (default: the Host each client asks for)": "客户端访问模型中心的地址，用于重定向和链接（默认：每个客户端请求的 Host）",
  "with --upstream: how long listings, revisions, info and access answers are reused": "配合 --upstream：文件列表、版本、信息和访问结果的复用时长",
  "blobs sent at once (default 4)": "同时发送的数据块数（默认 4）",
  "branch to commit to (default: master)": "提交到的分支（默认：master）",
  "commit description": "提交说明",
  "commit message": "提交信息",
  "create the repository (private) if it does not exist": "仓库不存在时创建（私有）",
  "hash and compare with the hub; send and commit nothing": "计算哈希并与服务器比较；不发送、不提交",
  "hash every file again (ignore the saved hashes)": "重新计算每个文件的哈希（忽略保存的哈希）",
  "no progress bar": "不显示进度条",
  "only files matching these globs (relative to the folder; `*` crosses `/`)": "只上传匹配这些通配符的文件（相对于文件夹；`*` 可跨越 `/`）",
  "upload a folder or a file to a repository in one commit; only what the hub lacks is sent": "把文件夹或文件以一次提交上传到仓库；只发送服务器缺少的内容",
};

const TITLES: Record<string, string> = { "Usage:": "用法：", "Arguments:": "参数：", "Options:": "选项：", "Commands:": "命令：" };

/** The Chinese of an English help text, or the text itself when it has none. */
export function helpZh(text: string): string {
  return ZH[text] ?? text;
}

/** Puts the Chinese texts into a command tree (call once it is complete, before parsing). */
export function translateHelp(cmd: Command): void {
  cmd.description(helpZh(cmd.description()));
  for (const opt of cmd.options) opt.description = helpZh(opt.description);
  for (const arg of cmd.registeredArguments) arg.description = helpZh(arg.description);
  cmd.helpOption("-h, --help", helpZh("display help for command"));
  cmd.configureHelp({ styleTitle: (title: string) => TITLES[title] ?? title });
  for (const sub of cmd.commands) translateHelp(sub);
  if (cmd.commands.length > 0) cmd.helpCommand("help [command]", helpZh("display help for command"));
}
