"""The e-license wallet (电子证照卡包): the licenses of a person and of the enterprises they
may act for, read live from the e-license library; the card view (亮证) with a signed,
short-lived verification QR code; authorised use (授权用证) by a named organisation through a
watermarked copy; the usage log the holder sees; and expiry reminders swept by the relay."""
