"""A default set of customer-service synonyms (道歉 = 致歉, 赔偿 = 补偿 = 赔付, 丢了 = 丢失 = 遗失…) that
trainers keep editing under 话术库 › 同义词.

Each group is created unless a group already names its first word (a trainer has it, perhaps edited):
running it again, or on a site whose trainers made their own groups, overwrites nothing. Undoing it
removes only the groups still exactly as created here. The first words differ from the demo's groups
(``search.demo``), which the demo loader adds on top.

Words with a particle (丢了, 坏了) also apply to the word without it (丢, 坏): ``search.synonyms`` matches
a group's term to a query word once function words are dropped. Self-contained: terms are written in the
form ``SynonymGroup.save`` gives them (``a = b = c``).
"""

from django.db import migrations

DEFAULT_SYNONYMS = [
    ("道歉 = 致歉 = 赔礼道歉 = 赔不是", "规范里写“致歉”"),
    ("赔偿 = 补偿 = 赔付 = 赔钱", "客户要求赔偿时的不同说法"),
    ("丢了 = 丢失 = 遗失 = 弄丢 = 丢件", "包裹、邮件丢失"),
    ("邮件 = 包裹 = 邮包", "邮政说“邮件”"),
    ("坏了 = 损坏 = 破损 = 坏掉", "收到的东西坏了"),
    ("碎了 = 破碎 = 摔碎 = 破损", "收到的东西碎了"),
    ("压扁 = 压坏 = 压碎 = 破损", "运输中被压"),
    ("故障 = 出故障 = 失灵 = 不能用", "设备、系统坏了"),
    ("发货 = 出库 = 发出", "仓库把货发出"),
    ("上门 = 上门取件 = 上门揽收", "快递员到客户家里"),
    ("拿件 = 取件 = 揽收 = 收件", "快递员来取包裹"),
    ("寄件 = 寄快递 = 发快递", ""),
    ("到货 = 到了 = 送达 = 收到货", "包裹送到"),
    ("没收到 = 未收到 = 没到", "客户说东西还没到"),
    ("催件 = 催单 = 催发货 = 催快递", "客户催促"),
    ("少发 = 少了 = 少件 = 没发全 = 少货", "收到的数量比买的少"),
    ("没货 = 缺货 = 无库存 = 没有库存", "下单后没有货"),
    ("补发 = 重发 = 再发", "少发、错发后补寄"),
    ("停电 = 断电 = 没电 = 停止供电", "供电热线"),
    ("复电 = 恢复供电 = 来电了", "供电热线"),
    ("缴费 = 交费 = 付费 = 收费 = 费用", "各种费用的说法"),
    ("欠费 = 没交钱 = 拖欠", ""),
    ("付款 = 支付 = 付钱 = 付了款", ""),
    ("到账 = 到帐 = 入账", "钱什么时候到"),
    ("退货 = 退回 = 退换货", ""),
    ("换货 = 调换 = 更换", ""),
    ("拒收 = 不要了 = 拒签", ""),
    ("签收 = 收货 = 签字", ""),
    ("发票 = 开票 = 票据", ""),
    ("查件 = 查快递 = 查物流 = 查询邮件", "查包裹到哪了"),
    ("快递单号 = 运单号 = 物流单号", ""),
    ("生气 = 发火 = 情绪激动 = 不满意", "客户情绪"),
    ("着急 = 焦急 = 急着要", "客户情绪"),
    ("表扬 = 感谢 = 好评", ""),
    ("态度差 = 态度不好 = 服务差", "对服务的抱怨"),
    ("被困 = 困人 = 困住 = 关在里面", "电梯困人"),
    ("维修 = 报修 = 修理", ""),
    ("保修 = 质保 = 保修期", ""),
    ("送货 = 配送 = 派送", ""),
    ("时限 = 期限 = 多久 = 几天", "客户问要多长时间"),
    ("价格 = 价钱 = 多少钱", ""),
    ("地址 = 住址 = 收货地址", ""),
    ("电话 = 手机号 = 联系方式 = 号码", ""),
    ("人工 = 人工客服 = 真人", "客户要找人工"),
    ("等待 = 等候 = 稍等", ""),
    ("业主 = 住户 = 居民", "物业"),
    ("小区 = 社区 = 楼盘", "物业"),
    ("装修 = 装潢 = 翻新", "物业"),
    ("钥匙 = 门卡 = 门禁卡", "物业"),
    ("噪音 = 噪声 = 太吵", "物业"),
    ("漏水 = 渗水 = 水管破了", "物业"),
    ("超时 = 逾期 = 过期 = 超过时限", ""),
]


def _first(terms):
    return terms.split("=")[0].strip()


def _term_list(terms):
    return [term.strip() for term in (terms or "").split("=") if term.strip()]


def create_groups(apps, schema_editor):
    SynonymGroup = apps.get_model("search", "SynonymGroup")
    named = {term for group in SynonymGroup.objects.all() for term in _term_list(group.terms)}
    for terms, note in DEFAULT_SYNONYMS:
        if _first(terms) not in named:
            SynonymGroup.objects.create(terms=terms, note=note)


def remove_groups(apps, schema_editor):
    SynonymGroup = apps.get_model("search", "SynonymGroup")
    SynonymGroup.objects.filter(terms__in=[terms for terms, _note in DEFAULT_SYNONYMS]).delete()


class Migration(migrations.Migration):
    dependencies = [("search", "0005_click_permissions")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
